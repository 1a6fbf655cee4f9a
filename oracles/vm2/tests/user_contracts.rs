//! The known facts of the shared zksolc user contracts, reproduced on vm2 0.5.0 in a plain
//! world with the v29 system contracts (no Era bootloader).
//!
//! How the ergs figures are measured: each call is the entry frame of its own vm2 run,
//! given [`ERGS`] (80,000,000) ergs; the figure is given − left of that entry frame
//! ([`Outcome::ergs_used`]). The entry frame's code is loaded without a decommit charge (as
//! vm2's `VirtualMachine::new` does), and each run starts with every storage slot cold.
//! Contracts are deployed through the real ContractDeployer first (see `common::deploy`);
//! Fib is also checked when installed directly, with the same figures.

mod common;

use common::*;
use ee_api::{Address, U256};
use eravm_oracle::abi::{self, Token};
use eravm_oracle::{run, Status, Tx};

const ALICE: Address = Address([0xaa; 20]);
const BOB: Address = Address([0xbb; 20]);
const CAROL: Address = Address([0xcc; 20]);

fn fib_call(n: u64) -> Vec<u8> {
    abi::call("fib(uint256)", &[uint(n)])
}

#[test]
fn fib_10_is_89_in_13425_ergs_and_fib_20_takes_1641975_ergs() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let fib = user("Fib");
    let installed = Address([0x11; 20]);
    world.install(installed, &fib.bytecode);
    let (deployed, _) = deploy(&mut world, DEPLOYER_EOA, &fib, &[]);

    for at in [installed, deployed] {
        let out = run(&world, &Tx::call(ALICE, at, fib_call(10), ERGS));
        assert_eq!(out.status, Status::Success);
        assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(89)));
        assert_eq!(out.ergs_used(), 13_425);
        assert_eq!(out.instructions, 1_704);
        assert!(out.storage_changes.is_empty() && out.events.is_empty());

        let out = run(&world, &Tx::call(ALICE, at, fib_call(20), ERGS));
        assert_eq!(out.status, Status::Success);
        assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(10_946)));
        assert_eq!(out.ergs_used(), 1_641_975);
        assert_eq!(out.instructions, 207_987);
    }
}

#[test]
fn fib_out_of_ergs_panics_with_nothing_left() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let at = Address([0x11; 20]);
    world.install(at, &user("Fib").bytecode);
    let out = run(&world, &Tx::call(ALICE, at, fib_call(20), 100_000));
    assert_eq!(out.status, Status::Panic);
    assert_eq!(out.ergs_left, 0);
    assert!(out.return_data.is_empty());
}

#[test]
fn my_erc20_mint_transfer_transfer_from_and_over_balance_revert() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let s = |x: &str| Token::String(x.into());
    let (token, deployment) =
        deploy(&mut world, DEPLOYER_EOA, &user("MyERC20"), &[s("MyToken"), s("MyToken"), uint(18)]);
    assert_eq!(deployment.ergs_used(), 57_916);
    let call = |world: &mut eravm_oracle::World, from, sig: &str, args: &[Token]| {
        world.execute(&Tx::call(from, token, abi::call(sig, args), ERGS))
    };
    let balance = |world: &mut eravm_oracle::World, who| {
        let out = call(world, ALICE, "balanceOf(address)", &[Token::Address(who)]);
        abi::decode_uint(&out.return_data, 0).unwrap()
    };
    let yes = Some(U256::from(1));

    let out = call(&mut world, ALICE, "mint(address,uint256)", &[Token::Address(ALICE), uint(1000)]);
    assert_eq!((out.status, out.ergs_used()), (Status::Success, 12_507));
    assert_eq!(abi::decode_uint(&out.return_data, 0), yes);
    assert_eq!(out.storage_changes.len(), 2, "balance and total supply");
    assert!(!out.events.is_empty(), "Transfer goes through EventWriter");

    let out = call(&mut world, ALICE, "transfer(address,uint256)", &[Token::Address(BOB), uint(100)]);
    assert_eq!((out.status, out.ergs_used()), (Status::Success, 13_487));
    assert_eq!(abi::decode_uint(&out.return_data, 0), yes);

    let out = call(&mut world, ALICE, "approve(address,uint256)", &[Token::Address(CAROL), uint(500)]);
    assert_eq!((out.status, out.ergs_used()), (Status::Success, 7_485));

    let out = call(
        &mut world,
        CAROL,
        "transferFrom(address,address,uint256)",
        &[Token::Address(ALICE), Token::Address(BOB), uint(200)],
    );
    assert_eq!((out.status, out.ergs_used()), (Status::Success, 21_585));
    assert_eq!(out.storage_changes.len(), 3, "two balances and the allowance");

    assert_eq!(balance(&mut world, ALICE), U256::from(700));
    assert_eq!(balance(&mut world, BOB), U256::from(300));
    let out = call(&mut world, ALICE, "allowance(address,address)", &[Token::Address(ALICE), Token::Address(CAROL)]);
    assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(300)));

    let out = call(&mut world, ALICE, "transfer(address,uint256)", &[Token::Address(BOB), uint(100_000)]);
    assert_eq!((out.status, out.ergs_used()), (Status::Revert, 2_965));
    assert_eq!(abi::decode_revert_reason(&out.return_data).as_deref(), Some("ERC20: transfer amount exceeds balance"));
    assert!(out.storage_changes.is_empty() && out.events.is_empty());
    assert_eq!(balance(&mut world, ALICE), U256::from(700));
}

#[test]
fn counter_increments_and_a_reverted_increment_leaves_no_change() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let (counter, _) = deploy(&mut world, DEPLOYER_EOA, &user("T_Counter"), &[]);
    let get = |world: &eravm_oracle::World| {
        let out = run(world, &Tx::call(ALICE, counter, abi::call("get()", &[]), ERGS));
        assert_eq!(out.status, Status::Success);
        abi::decode_uint(&out.return_data, 0).unwrap()
    };
    assert_eq!(get(&world), U256::ZERO);
    for expected in [5u64, 10] {
        let out = world.execute(&Tx::call(ALICE, counter, abi::call("increment(uint256)", &[uint(5)]), ERGS));
        assert_eq!((out.status, out.ergs_used()), (Status::Success, 5_706));
        assert_eq!(out.storage_changes.len(), 1);
        assert_eq!(out.storage_changes[0].after, U256::from(expected));
        assert_eq!(get(&world), U256::from(expected));
    }
    // incrementWithRevert writes the counter, then reverts when asked: the entry frame's
    // write must not survive (vm2 itself does not roll back the entry frame).
    let out = world.execute(&Tx::call(
        ALICE,
        counter,
        abi::call("incrementWithRevert(uint256,bool)", &[uint(5), Token::Bool(true)]),
        ERGS,
    ));
    assert_eq!(out.status, Status::Revert);
    assert_eq!(abi::decode_revert_reason(&out.return_data).as_deref(), Some("This method always reverts"));
    assert!(out.storage_changes.is_empty());
    assert_eq!(get(&world), U256::from(10));
    let out = world.execute(&Tx::call(
        ALICE,
        counter,
        abi::call("incrementWithRevert(uint256,bool)", &[uint(5), Token::Bool(false)]),
        ERGS,
    ));
    assert_eq!(out.status, Status::Success);
    assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(15)));
    assert_eq!(get(&world), U256::from(15));
}

#[test]
fn greeter_set_and_get() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let (greeter, _) = deploy(&mut world, DEPLOYER_EOA, &user("Greeter"), &[Token::String("Hi".into())]);
    let greet = |world: &eravm_oracle::World| {
        let out = run(world, &Tx::call(ALICE, greeter, abi::call("greet()", &[]), ERGS));
        assert_eq!(out.status, Status::Success);
        String::from_utf8(abi::decode_bytes(&out.return_data, 0).unwrap()).unwrap()
    };
    assert_eq!(greet(&world), "Hi");
    let out = run(&world, &Tx::call(ALICE, greeter, abi::call("owner()", &[]), ERGS));
    assert_eq!(abi::decode_address(&out.return_data, 0), Some(DEPLOYER_EOA), "Ownable's owner is the deployer");

    let out = world.execute(&Tx::call(
        ALICE,
        greeter,
        abi::call("setGreeting(string)", &[Token::String("Hello, world!".into())]),
        ERGS,
    ));
    assert_eq!(out.status, Status::Success);
    assert_eq!(greet(&world), "Hello, world!");

    let out = world.execute(&Tx::call(
        ALICE,
        greeter,
        abi::call("setGreetingByOwner(string)", &[Token::String("x".into())]),
        ERGS,
    ));
    assert_eq!(out.status, Status::Revert);
    assert_eq!(abi::decode_revert_reason(&out.return_data).as_deref(), Some("Ownable: caller is not the owner"));
    let out = world.execute(&Tx::call(
        DEPLOYER_EOA,
        greeter,
        abi::call("setGreetingByOwner(string)", &[Token::String("by owner".into())]),
        ERGS,
    ));
    assert_eq!(out.status, Status::Success);
    assert_eq!(greet(&world), "by owner");
}

#[test]
fn primary_calls_secondary() {
    let Some(_) = data_dir() else { return };
    let mut world = v29_world();
    let (secondary, _) = deploy(&mut world, DEPLOYER_EOA, &user("Secondary"), &[uint(3)]);
    let (primary, _) = deploy(&mut world, DEPLOYER_EOA, &user("Primary"), &[Token::Address(secondary)]);

    let out = run(&world, &Tx::call(ALICE, primary, abi::call("calculate(uint256)", &[uint(5)]), ERGS));
    assert_eq!(out.status, Status::Success);
    assert_eq!(abi::decode_uint(&out.return_data, 0), Some(U256::from(15)));
    // The far call to Secondary decommits its code (the entry frame's own code is free).
    assert_eq!(out.decommits, vec![world.code_hash_at(secondary).unwrap()]);
    assert_eq!(out.ergs_used(), 5_012);

    let out = run(&world, &Tx::call(ALICE, primary, abi::call("shouldRevert()", &[]), ERGS));
    assert_eq!(out.status, Status::Revert);
    assert_eq!(abi::decode_revert_reason(&out.return_data).as_deref(), Some("This should revert"));
}
