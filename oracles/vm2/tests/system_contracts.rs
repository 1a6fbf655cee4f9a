//! Facts of the v29 system contracts on vm2 0.5.0 in a plain world (no Era bootloader):
//! ContractDeployer's refusals, value through MsgValueSimulator into L2BaseToken storage,
//! the default account and its decommit, SystemContext, and the oracle's own reporting
//! (traces, step limits, panics).

mod common;

use common::*;
use ee_api::{Address, B256, U256};
use eravm_oracle::abi::{self, Token};
use eravm_oracle::{addresses, run, Outcome, Status, Tx, World};

const ALICE: Address = Address([0xaa; 20]);
const BOB: Address = Address([0xbb; 20]);

fn create_calldata(salt: B256, hash: B256, function: &str) -> Vec<u8> {
    abi::call(
        &format!("{function}(bytes32,bytes32,bytes)"),
        &[Token::Bytes32(salt), Token::Bytes32(hash), Token::Bytes(vec![])],
    )
}

fn custom_error(signature: &str, args: &[Token]) -> Vec<u8> {
    abi::call(signature, args)
}

#[test]
fn contract_deployer_refuses_unknown_hashes_non_system_calls_and_occupied_create2_addresses() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let fib = user("Fib");
    let hash = world.add_code(&fib.bytecode);
    assert!(!world.is_known(hash));

    let create = create_calldata(B256::ZERO, hash, "create");
    let out = run(&world, &Tx::call(ALICE, addresses::CONTRACT_DEPLOYER, create.clone(), ERGS).system());
    assert_eq!(out.status, Status::Revert);
    assert_eq!(out.return_data, custom_error("UnknownCodeHash(bytes32)", &[Token::Bytes32(hash)]));

    world.mark_known(hash);
    let out = run(&world, &Tx::call(ALICE, addresses::CONTRACT_DEPLOYER, create.clone(), ERGS));
    assert_eq!(out.status, Status::Revert);
    assert_eq!(out.return_data, custom_error("SystemCallFlagRequired()", &[]));

    let salt = B256([7; 32]);
    let create2 = create_calldata(salt, hash, "create2");
    let out = world.execute(&Tx::call(ALICE, addresses::CONTRACT_DEPLOYER, create2.clone(), ERGS).system());
    assert_eq!(out.status, Status::Success);
    let at = abi::decode_address(&out.return_data, 0).unwrap();
    assert_eq!(at, eravm_oracle::create2_address(ALICE, salt, hash, &[]));
    assert_eq!(world.code_hash_at(at), Some(hash));

    let out = world.execute(&Tx::call(ALICE, addresses::CONTRACT_DEPLOYER, create2, ERGS).system());
    assert_eq!(out.status, Status::Revert);
    assert_eq!(out.return_data, custom_error("HashIsNonZero(bytes32)", &[Token::Bytes32(hash)]));
    assert!(out.storage_changes.is_empty());
}

#[test]
fn create_addresses_follow_the_deployment_nonce() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let fib = user("Fib");
    for nonce in 0..2u64 {
        let (at, _) = deploy(&mut world, ALICE, &fib, &[]);
        assert_eq!(at, eravm_oracle::create_address(ALICE, U256::from(nonce)));
    }
}

fn send_value(world: &mut World, from: Address, to: Address, value: u64, trace: bool) -> Outcome {
    let mut tx = Tx::call(from, addresses::MSG_VALUE_SIMULATOR, Vec::new(), ERGS).system();
    // MsgValueSimulator's extra ABI: r3 = value, r4 = destination, r5 bit 0 = system call.
    tx.extra_abi = vec![U256::from(value), to.to_word(), U256::ZERO];
    tx.trace = trace;
    world.execute(&tx)
}

#[test]
fn value_moves_through_msg_value_simulator_into_l2_base_token_storage() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    world.set_balance(ALICE, U256::from(1000));
    let out = send_value(&mut world, ALICE, BOB, 100, false);
    assert_eq!(out.status, Status::Success);
    assert_eq!(world.balance(ALICE), U256::from(900));
    assert_eq!(world.balance(BOB), U256::from(100));
    let keys: Vec<_> = out.storage_changes.iter().map(|w| (w.address, w.key)).collect();
    assert_eq!(keys.len(), 2, "only the two balance slots change: {:?}", out.storage_changes);
    assert!(keys.contains(&(addresses::L2_BASE_TOKEN, World::balance_key(ALICE))));
    assert!(keys.contains(&(addresses::L2_BASE_TOKEN, World::balance_key(BOB))));

    // The slot layout agrees with L2BaseToken's own getter.
    let out = run(
        &world,
        &Tx::call(
            ALICE,
            addresses::L2_BASE_TOKEN,
            abi::call("balanceOf(uint256)", &[Token::Uint(BOB.to_word())]),
            ERGS,
        ),
    );
    assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(100)));

    // More than the balance: L2BaseToken reverts and nothing moves.
    let out = send_value(&mut world, BOB, ALICE, 101, false);
    assert_ne!(out.status, Status::Success);
    assert!(out.storage_changes.is_empty());
    assert_eq!(world.balance(BOB), U256::from(100));
}

/// Ergs the caller lost to its first far call into `callee` beyond what it passed:
/// decommit plus any memory growth. From the trace: ergs before the call (after its static
/// cost) − ergs the callee started with + ergs the callee returned with − the caller's ergs
/// right after the return.
fn far_call_overhead(steps: &[eravm_oracle::Step], callee: Address) -> u32 {
    let call = (0..steps.len() - 1)
        .find(|&i| steps[i].opcode.starts_with("FarCall") && steps[i + 1].address == callee)
        .expect("a far call into the callee");
    let depth = steps[call].callframes;
    let ret = steps[call + 1..]
        .iter()
        .find(|s| s.opcode.starts_with("Ret") && s.address == callee && s.callframes == depth - 1)
        .expect("the callee's return");
    steps[call].ergs_before - steps[call].ergs_after + ret.ergs_before - ret.ergs_after
}

#[test]
fn an_account_without_code_runs_default_account_and_pays_its_decommit() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    world.set_balance(ALICE, U256::from(1000));
    assert_eq!(world.code_hash_at(BOB), None);
    let out = send_value(&mut world, ALICE, BOB, 0, true);
    assert_eq!(out.status, Status::Success);
    let default_aa = world.default_account_hash();
    assert!(out.decommits.contains(&default_aa), "DefaultAccount decommitted");
    let words = u32::from(u16::from_be_bytes([default_aa.0[2], default_aa.0[3]]));
    assert_eq!(words * 4, 6_108, "4 ergs per word of DefaultAccount's 1,527 words");
    let steps = out.trace.as_ref().unwrap();
    assert_eq!(far_call_overhead(steps, BOB), 6_108);
    // The same call with DefaultAccount installed explicitly at BOB costs the same: the
    // charge is for the code hash, whichever way the account reaches it.
    let mut explicit = world.clone();
    explicit.install(BOB, world.code(default_aa).unwrap());
    let again = send_value(&mut explicit, ALICE, BOB, 0, false);
    assert_eq!(again.ergs_used(), out.ergs_used());
}

#[test]
fn system_context_reads_zero_and_keeps_setters_for_the_bootloader() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    for getter in ["chainId()", "getBlockNumber()", "getBlockTimestamp()", "gasPrice()", "baseFee()", "origin()"] {
        let out = run(&world, &Tx::call(ALICE, addresses::SYSTEM_CONTEXT, abi::call(getter, &[]), ERGS));
        assert_eq!(out.status, Status::Success, "{getter}");
        assert_eq!(out.return_data, vec![0; 32], "{getter}");
    }
    let set_origin = abi::call("setTxOrigin(address)", &[Token::Address(BOB)]);
    let out = world.execute(&Tx::call(ALICE, addresses::SYSTEM_CONTEXT, set_origin.clone(), ERGS));
    assert_eq!(out.status, Status::Revert);
    assert_eq!(out.return_data, custom_error("CallerMustBeBootloader()", &[]));
    let out = world.execute(&Tx::call(addresses::BOOTLOADER, addresses::SYSTEM_CONTEXT, set_origin, ERGS));
    assert_eq!(out.status, Status::Success);
    let out = run(&world, &Tx::call(ALICE, addresses::SYSTEM_CONTEXT, abi::call("origin()", &[]), ERGS));
    assert_eq!(abi::decode_address(&out.return_data, 0), Some(BOB));
}

#[test]
fn traces_step_limits_and_entries_with_nothing_to_run() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let at = Address([0x11; 20]);
    world.install(at, &user("Fib").bytecode);
    let calldata = abi::call("fib(uint256)", &[uint(10)]);

    let out = run(&world, &Tx::call(ALICE, at, calldata.clone(), ERGS).traced());
    assert_eq!(out.ergs_used(), 13_425, "tracing does not change the figures");
    let steps = out.trace.as_ref().unwrap();
    assert_eq!(steps.len() as u64, out.instructions);
    assert_eq!(steps.len(), 1_704);
    assert_eq!(steps[0].pc, Some(0));
    assert!(steps.iter().all(|s| s.address == at && s.registers[0] == U256::ZERO));
    let last = steps.last().unwrap();
    assert_eq!(last.opcode, "Ret(Normal)");
    assert_eq!(last.ergs_after, out.ergs_left);
    assert!(steps.windows(2).all(|w| w[1].ergs_before <= w[0].ergs_after), "ergs never grow inside one frame here");

    let mut limited = Tx::call(ALICE, at, calldata, ERGS);
    limited.step_limit = Some(100);
    let out = run(&world, &limited);
    assert_eq!(out.status, Status::StepLimit);
    assert_eq!(out.instructions, 100);

    // A kernel address without code has nothing to run: vm2's far call would panic.
    let nothing = Address::from_word(U256::from(0x8020));
    let out = run(&world, &Tx::call(ALICE, nothing, Vec::new(), ERGS));
    assert_eq!((out.status, out.instructions, out.ergs_left), (Status::Panic, 0, ERGS));
}

/// The 64-bit instruction word of `static_memory_read` (operands zero, always executed),
/// found in vm2's own decoding table.
fn static_memory_read_word() -> u64 {
    use zkevm_opcode_defs::decoding::EncodingModeProduction;
    use zkevm_opcode_defs::{Condition, Opcode, UMAOpcode};
    (0u64..1 << 11)
        .find(|&raw| {
            let (variant, condition, _) = EncodingModeProduction::variant_and_condition_from_u64_word(raw);
            variant.opcode == Opcode::UMA(UMAOpcode::StaticMemoryRead) && condition == Condition::Always
        })
        .expect("static_memory_read is in the opcode table")
}

#[test]
fn an_unimplemented_static_memory_opcode_is_reported_as_unsupported() {
    let mut world = World::new();
    // One word: static_memory_read, then three zero words (never reached).
    let mut code = vec![0u8; 32];
    code[..8].copy_from_slice(&static_memory_read_word().to_be_bytes());
    let kernel = Address::from_word(U256::from(0x8020));
    world.install(kernel, &code);
    let out = run(&world, &Tx::call(ALICE, kernel, Vec::new(), ERGS));
    assert_eq!(out.status, Status::Unsupported);
    assert_eq!(out.instructions, 0, "vm2 stops before tracing it");
}

#[test]
fn every_artifact_hash_is_the_versioned_sha256_of_its_bytecode() {
    let Some(_) = data_dir() else { return };
    let contracts = system_contracts();
    assert_eq!(contracts.len(), 49);
    for a in contracts {
        assert_eq!(Some(eravm_oracle::bytecode_hash(&a.bytecode).unwrap()), a.hash, "{}", a.name);
    }
    let counter = user("T_Counter");
    assert_eq!(Some(eravm_oracle::bytecode_hash(&counter.bytecode).unwrap()), counter.hash);
    let world = v29_world();
    for (name, at) in [("ContractDeployer", addresses::CONTRACT_DEPLOYER), ("Keccak256", addresses::KECCAK256)] {
        let a = contracts.iter().find(|a| a.name == name).unwrap();
        assert_eq!(world.code_hash_at(at), a.hash, "{name}");
    }
}

#[test]
fn the_shared_genesis_layout_is_this_world() {
    // `ee_eravm::artifacts::Genesis::v29` is what the `eravm` conformance suite builds the
    // bootloader's world from: the same slots, the same code at the same addresses.
    let Some(_) = data_dir() else { return };
    let world = v29_world();
    let genesis = eravm_oracle::artifacts::Genesis::v29(system_contracts()).unwrap();
    let slots: Vec<_> = world.storage_slots().collect();
    let expected: Vec<_> = genesis.storage.iter().map(|(&(a, k), &v)| (a, k, v)).collect();
    assert_eq!(slots, expected);
    for (at, code) in &genesis.code {
        let hash = world.code_hash_at(*at).expect("installed");
        assert_eq!(world.code(hash), Some(&code[..]), "{at}");
    }
    let default = genesis.default_account.as_deref().expect("DefaultAccount");
    assert_eq!(world.code(world.default_account_hash()), Some(default));
}
