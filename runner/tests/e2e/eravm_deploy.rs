//! EraVM deployment: the EE's ContractDeployer path (a system far call to 0x8006 served by
//! the EE under the bootloader, ees/eravm/ABI.md) against vm2 running Era's real
//! ContractDeployer, on the shared zksolc contracts with their recorded constructor
//! arguments. The two paths differ in ergs and in ContractDeployer's own bookkeeping
//! (NonceHolder, events), so what both define is compared: the address, the code hash in
//! AccountCodeStorage, every slot the constructor wrote, and the immutables in
//! ImmutableSimulator. Needs `../shared/eravm` (skipped with a note without it, a failure
//! with REQUIRE_ERAVM_CONTRACTS set).

use std::collections::BTreeMap;
use std::sync::Arc;

use bootloader::{execute_transaction, Account, ExecutionLimits, Transaction, WorldState};
use ee_api::{Address, BlockEnv, Bytecode, ExitStatus, Fork, U256};
use ee_eravm::artifacts::{self, abi, addresses, Genesis};
use ee_eravm::ee::DEFAULT_ACCOUNT_HOLDER;
use ee_eravm::{stored_code, text::assemble_text, versioned_hash};
use eravm_oracle::{Tx, World};

const SENDER: Address = Address([0x5e; 20]);
const DEPLOYER: Address = Address([0xd0; 20]);
const ERGS: u32 = 50_000_000;

/// Forwards its calldata to ContractDeployer as a system call (all the ergs 63/64 allows)
/// and returns (or reverts with) what comes back.
const DEPLOYER_ASM: &str = "
        add     code[@call_bits], r0, r5
        pack    r1, r5, r1
        add     code[@contract_deployer], r0, r2
        callf   r1, r2, @failed
        add     code[@forward], r0, r6
        pack    r1, r6, r1
        ret     r1
failed: add     code[@forward], r0, r6
        pack    r1, r6, r1
        rev     r1
call_bits:         .word 0x01000001ffffffff000000000000000000000000000000000000000000000000
forward:           .word 0x0000000100000000000000000000000000000000000000000000000000000000
contract_deployer: .word 0x8006
";

fn u(v: u64) -> U256 {
    U256::from(v)
}

/// The constructor input of `name` from its artifact's recorded deployment (`entries`),
/// typed by its ABI's constructor inputs.
fn constructor_input(artifact: &artifacts::Artifact) -> Vec<u8> {
    let types: Vec<String> = artifact
        .abi
        .as_array()
        .into_iter()
        .flatten()
        .filter(|x| x["type"] == "constructor")
        .flat_map(|c| c["inputs"].as_array().cloned().unwrap_or_default())
        .map(|i| i["type"].as_str().unwrap_or_default().to_string())
        .collect();
    let args = artifact.json["entries"][0]["constructorArgs"].as_array().cloned().unwrap_or_default();
    let tokens: Vec<abi::Token> = types
        .iter()
        .zip(&args)
        .map(|(ty, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            abi::token(ty, &text).unwrap_or_else(|e| panic!("{}: argument {text}: {e}", artifact.name))
        })
        .collect();
    abi::encode(&tokens)
}

fn bootloader_world(genesis: &Genesis, deployer_code: &[u8]) -> WorldState {
    let mut state = WorldState::new();
    state.insert_account(SENDER, Account { balance: u(10u64.pow(18)), ..Account::default() });
    let mut accounts: BTreeMap<Address, Account> = BTreeMap::new();
    for (at, code) in &genesis.code {
        accounts.entry(*at).or_default().code = Arc::new(Bytecode::new(Arc::from(stored_code(code))));
    }
    for ((at, key), value) in &genesis.storage {
        accounts.entry(*at).or_default().storage.insert(*key, *value);
    }
    if let Some(code) = &genesis.default_account {
        accounts.entry(DEFAULT_ACCOUNT_HOLDER).or_default().code =
            Arc::new(Bytecode::new(Arc::from(stored_code(code))));
    }
    accounts.entry(DEPLOYER).or_default().code = Arc::new(Bytecode::new(Arc::from(stored_code(deployer_code))));
    for (at, account) in accounts {
        state.insert_account(at, account);
    }
    state
}

#[test]
fn deployment_through_contract_deployer_defines_what_vm2_defines() {
    let Some(dir) = artifacts::data_dir() else {
        assert!(std::env::var_os(artifacts::REQUIRE_ENV).is_none(), "../shared/eravm is required");
        eprintln!("note: ../shared/eravm not found; EraVM deployment comparison skipped");
        return;
    };
    let system = artifacts::load_system_contracts(&dir).unwrap();
    let genesis = Genesis::v29(&system).unwrap();
    let deployer_code = assemble_text(DEPLOYER_ASM).unwrap();
    let mut compared = 0;
    let mut slots = 0;
    for name in ["Fib", "Greeter", "MyERC20", "Secondary", "Primary"] {
        let artifact = artifacts::load_user_contract(&dir, name).unwrap();
        let hash = versioned_hash(&artifact.bytecode).unwrap();
        let input = constructor_input(&artifact);
        let salt = [0x5a; 32];
        let calldata = abi::call(
            "create2(bytes32,bytes32,bytes)",
            &[
                abi::Token::Bytes32(ee_api::B256(salt)),
                abi::Token::Bytes32(ee_api::B256(hash)),
                abi::Token::Bytes(input.clone()),
            ],
        );

        // vm2: the real ContractDeployer, the code a known factory dep.
        let mut world = World::with_system_contracts(&system);
        world.install(DEPLOYER, &deployer_code);
        world.add_factory_dep(&artifact.bytecode);
        let theirs = world.execute(&Tx::call(SENDER, DEPLOYER, calldata.clone(), ERGS));
        assert!(theirs.is_success(), "{name}: vm2's deployment failed: {:?}", theirs.status);
        let their_address = abi::decode_address(&theirs.return_data, 0).expect("an address");

        // Ours: the EE's deployment request, the code among the transaction's factory deps.
        let mut state = bootloader_world(&genesis, &deployer_code);
        let before = state.clone();
        let block = BlockEnv { number: u(1), gas_limit: u(100_000_000), chain_id: u(1), ..BlockEnv::default() };
        let tx = Transaction {
            sender: SENDER,
            to: Some(DEPLOYER),
            gas_limit: u(ERGS as u64),
            gas_price: Some(u(0)),
            data: Arc::from(calldata),
            factory_deps: vec![Arc::from(artifact.bytecode.clone())],
            ..Transaction::default()
        };
        let ours = execute_transaction(&mut state, &block, &tx, Fork::Cancun, ExecutionLimits::default()).unwrap();
        assert_eq!(ours.status, ExitStatus::Success, "{name}: our deployment failed: {ours:?}");
        let our_address = abi::decode_address(&ours.output, 0).expect("an address");
        assert_eq!(our_address, their_address, "{name}: the address");
        assert_eq!(
            state.get(&our_address).map(|a| a.code.bytes.to_vec()),
            Some(stored_code(&artifact.bytecode)),
            "{name}: the stored code"
        );

        // What the deployment wrote where both define it: the new contract's storage (its
        // constructor), its AccountCodeStorage entry, its immutables.
        let defined = |a: &Address, key: &U256| {
            *a == their_address
                || (*a == addresses::ACCOUNT_CODE_STORAGE && *key == their_address.to_word())
                || *a == addresses::IMMUTABLE_SIMULATOR
        };
        let theirs_written: BTreeMap<(Address, U256), U256> = theirs
            .storage_changes
            .iter()
            .filter(|w| defined(&w.address, &w.key))
            .map(|w| ((w.address, w.key), w.after))
            .collect();
        let mut ours_written = BTreeMap::new();
        for a in [their_address, addresses::ACCOUNT_CODE_STORAGE, addresses::IMMUTABLE_SIMULATOR] {
            let after = state.get(&a).map(|acc| acc.storage.clone()).unwrap_or_default();
            let prior = before.get(&a).map(|acc| acc.storage.clone()).unwrap_or_default();
            for (k, v) in after.iter() {
                if prior.get(k) != Some(v) && defined(&a, k) {
                    ours_written.insert((a, *k), *v);
                }
            }
        }
        assert_eq!(ours_written, theirs_written, "{name}: constructor storage, code hash and immutables");
        assert!(
            theirs_written.contains_key(&(addresses::ACCOUNT_CODE_STORAGE, their_address.to_word())),
            "{name}: the code hash is among what is compared"
        );
        compared += 1;
        slots += theirs_written.len();
    }
    // Greeter's string, MyERC20's name, symbol and decimals, Secondary's and Primary's
    // arguments: constructors that write, so the comparison is not of empty sets.
    assert!(slots > 2 * compared, "only {slots} slots compared over {compared} contracts");
    eprintln!(
        "EraVM deployment: {compared} contracts, {slots} slots (code hashes, constructor storage, immutables) \
         and every address equal vm2's"
    );
}
