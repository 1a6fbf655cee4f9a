//! Comparing an actual post-state with a filler's expectations, the way
//! retesteth's `compareStates` does, and explaining each difference.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};

use bootloader::{Account, WorldState};
use ee_api::{Address, B256, U256};
use similar::TextDiff;

use super::{ExpectedAccount, ExpectedPost};

/// The differences between an actual post-state and an [`ExpectedPost`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostDiff {
    /// One line per mismatch, account by account, slot by slot, e.g.
    /// `0x095e…2d87: storage[0x01] expected 0x02, got 0x00`.
    pub mismatches: Vec<String>,
    /// A unified diff of a canonical rendering of the expected and the
    /// actual accounts involved (those the filler names); empty when nothing
    /// differs.
    pub unified: String,
    /// How the comparison was adapted (see [`diff_post`] on moved contracts).
    pub notes: Vec<String>,
}

impl PostDiff {
    /// True when the actual state satisfies every expectation.
    pub fn is_empty(&self) -> bool {
        self.mismatches.is_empty()
    }
}

impl fmt::Display for PostDiff {
    /// The mismatch lines, the notes, then the unified diff.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.mismatches {
            writeln!(f, "{m}")?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        if !self.unified.is_empty() {
            write!(f, "{}", self.unified)?;
        }
        Ok(())
    }
}

/// Compact, even-length hex, as retesteth prints values: `0x00`, `0x0100`.
pub fn hex_u256(v: U256) -> String {
    let bytes = v.to_be_bytes::<32>();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(31);
    format!("0x{}", hex::encode(&bytes[first..]))
}

/// Code in full up to 64 bytes, else its start, length and hash.
fn render_code(code: &[u8]) -> String {
    if code.len() <= 64 {
        format!("0x{}", hex::encode(code))
    } else {
        format!("0x{}... ({} bytes, keccak {})", hex::encode(&code[..32]), code.len(), B256::keccak(code))
    }
}

/// Balance in decimal with its hex.
fn render_balance(b: U256) -> String {
    format!("{b} ({})", hex_u256(b))
}

/// Non-zero storage of an actual account, ordered by slot.
fn actual_storage(acc: &Account) -> BTreeMap<U256, U256> {
    acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect()
}

/// Where the reduced fillers (ethereum/legacytests) moved test contracts:
/// `0x1000 + k` in the filler is `0x0100 + k` in the generated v13.3 tests,
/// for `k < 0x100` (0x0100 became a precompile address in later forks).
const MOVED_TO: u64 = 0x1000;
const MOVED_FROM: u64 = 0x0100;
const MOVED_SPAN: u64 = 0x100;

/// `0x..10kk` → `0x..01kk`, for addresses in the moved range.
fn moved_counterpart(a: Address) -> Option<Address> {
    let w = a.to_word();
    let k = w.checked_sub(U256::from(MOVED_TO))?;
    (k < U256::from(MOVED_SPAN)).then(|| Address::from_word(k + U256::from(MOVED_FROM)))
}

/// True when the filler names contracts at their moved addresses while the
/// actual state has them at the old ones: no account at all lives in the
/// moved range, and some `0x10kk` address the filler expects to exist or its
/// transaction names has its `0x01kk` counterpart in the state.
fn contracts_moved(expected: &ExpectedPost, actual: &WorldState) -> bool {
    let any_in_moved_range = actual.accounts.keys().any(|a| moved_counterpart(*a).is_some());
    let counterpart_exists = |a: &Address| moved_counterpart(*a).is_some_and(|c| actual.get(&c).is_some());
    !any_in_moved_range
        && (expected.accounts.iter().any(|e| !e.should_not_exist && counterpart_exists(&e.address))
            || expected.tx_addresses.iter().any(counterpart_exists))
}

/// Compares `actual` with `expected`, account by account and slot by slot:
/// an account marked `shouldnotexist` must be absent, any other named
/// account present; each given field must match; a `storage` map is the
/// account's complete storage (a non-zero slot it does not list is a
/// mismatch; `ANY` slots accept any value). Empty when everything matches.
///
/// Moved contracts: some reduced fillers are newer than the generated tests
/// and name contracts at `0x10kk` where the tests have them at `0x01kk`.
/// When the actual state shows exactly that (see `contracts_moved`), the
/// expectations of `0x10kk` accounts are checked at `0x01kk`, and a note
/// says so; accounts created by such contracts have other addresses in the
/// filler and stay unmatched, with a hint.
pub fn diff_post(expected: &ExpectedPost, actual: &WorldState) -> PostDiff {
    let mut notes = Vec::new();
    // Only fillers lag behind their tests; a vector's own post-state is exact.
    let moved = expected.origin == "filler" && contracts_moved(expected, actual);
    let translated;
    let expected = if moved {
        let mut e = expected.clone();
        for acc in &mut e.accounts {
            if let Some(c) = moved_counterpart(acc.address) {
                acc.address = c;
            }
        }
        notes.push(format!(
            "the filler is newer than this test: it names contracts at {:#x}+k that the test has at {:#x}+k, \
             so they are compared there",
            MOVED_TO, MOVED_FROM
        ));
        translated = e;
        &translated
    } else {
        expected
    };
    let mut mismatches = Vec::new();
    for exp in &expected.accounts {
        let before = mismatches.len();
        account_mismatches(exp, actual.get(&exp.address), expected.origin, &mut mismatches);
        if moved && mismatches.len() > before && actual.get(&exp.address).is_none() {
            mismatches[before].push_str(" (perhaps created by a contract the filler moved, so at another address)");
        }
    }
    let unified = if mismatches.is_empty() {
        String::new()
    } else {
        let (want, got) = render(expected, actual);
        TextDiff::from_lines(&want, &got)
            .unified_diff()
            .context_radius(3)
            .header(&format!("expected ({})", expected.origin), "actual")
            .to_string()
    };
    PostDiff { mismatches, unified, notes }
}

fn account_mismatches(exp: &ExpectedAccount, acc: Option<&Account>, origin: &str, out: &mut Vec<String>) {
    let a = exp.address;
    let acc = match (exp.should_not_exist, acc) {
        (true, None) => return,
        (true, Some(acc)) => {
            out.push(format!(
                "{a}: should not exist but does (balance {}, nonce {}, {} code bytes, {} storage slots)",
                acc.balance,
                acc.nonce,
                acc.code.bytes.len(),
                actual_storage(acc).len()
            ));
            return;
        }
        (false, None) => {
            out.push(format!("{a}: missing account"));
            return;
        }
        (false, Some(acc)) => acc,
    };
    if let Some(b) = exp.balance.filter(|b| *b != acc.balance) {
        out.push(format!("{a}: balance expected {}, got {}", render_balance(b), render_balance(acc.balance)));
    }
    if let Some(n) = exp.nonce.filter(|n| *n != acc.nonce) {
        out.push(format!("{a}: nonce expected {n}, got {}", acc.nonce));
    }
    if let Some(code) = exp.code.as_deref().filter(|c| *c != &*acc.code.bytes) {
        out.push(format!("{a}: code expected {}, got {}", render_code(code), render_code(&acc.code.bytes)));
    }
    let got = actual_storage(acc);
    let any: BTreeSet<U256> = exp.storage_any.iter().copied().collect();
    for (k, v) in exp.storage.iter().filter(|(k, _)| !any.contains(k)) {
        let g = got.get(k).copied().unwrap_or(U256::ZERO);
        if g != *v {
            out.push(format!("{a}: storage[{}] expected {}, got {}", hex_u256(*k), hex_u256(*v), hex_u256(g)));
        }
    }
    if exp.storage_complete {
        let listed: BTreeSet<U256> = exp.storage.iter().map(|(k, _)| *k).chain(any.iter().copied()).collect();
        for (k, v) in got.iter().filter(|(k, _)| !listed.contains(k)) {
            out.push(format!(
                "{a}: storage[{}] expected 0x00 (not listed in the {origin}'s complete storage), got {}",
                hex_u256(*k),
                hex_u256(*v)
            ));
        }
    }
}

/// The canonical text of the expected and the actual accounts: the same
/// fields on both sides (those the filler checks), one per line, so that
/// only real differences show in a line diff.
fn render(expected: &ExpectedPost, actual: &WorldState) -> (String, String) {
    let (mut want, mut got) = (String::new(), String::new());
    for exp in &expected.accounts {
        let acc = actual.get(&exp.address);
        let _ = writeln!(want, "{}", exp.address);
        let _ = writeln!(got, "{}", exp.address);
        if exp.should_not_exist {
            want.push_str("  (does not exist)\n");
            match acc {
                None => got.push_str("  (does not exist)\n"),
                Some(acc) => render_whole(acc, &mut got),
            }
            continue;
        }
        let Some(acc) = acc else {
            render_expected(exp, None, &mut want);
            got.push_str("  (does not exist)\n");
            continue;
        };
        render_expected(exp, Some(acc), &mut want);
        render_actual_like(exp, acc, &mut got);
    }
    (want, got)
}

fn render_expected(exp: &ExpectedAccount, acc: Option<&Account>, out: &mut String) {
    let start = out.len();
    if let Some(b) = exp.balance {
        let _ = writeln!(out, "  balance {}", render_balance(b));
    }
    if let Some(n) = exp.nonce {
        let _ = writeln!(out, "  nonce {n}");
    }
    if let Some(c) = &exp.code {
        let _ = writeln!(out, "  code {}", render_code(c));
    }
    // Zero slots are omitted (they mean "empty"); ANY slots show the actual value.
    let mut slots: BTreeMap<U256, String> =
        exp.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, hex_u256(*v))).collect();
    for k in &exp.storage_any {
        match acc.map(actual_storage).and_then(|s| s.get(k).copied()) {
            Some(v) => slots.insert(*k, hex_u256(v)),
            None => slots.remove(k),
        };
    }
    for (k, v) in slots {
        let _ = writeln!(out, "  storage[{}] {v}", hex_u256(k));
    }
    if out.len() == start {
        out.push_str("  (exists)\n");
    }
}

fn render_actual_like(exp: &ExpectedAccount, acc: &Account, out: &mut String) {
    let start = out.len();
    if exp.balance.is_some() {
        let _ = writeln!(out, "  balance {}", render_balance(acc.balance));
    }
    if exp.nonce.is_some() {
        let _ = writeln!(out, "  nonce {}", acc.nonce);
    }
    if exp.code.is_some() {
        let _ = writeln!(out, "  code {}", render_code(&acc.code.bytes));
    }
    let listed: BTreeSet<U256> = exp.storage.iter().map(|(k, _)| *k).chain(exp.storage_any.iter().copied()).collect();
    for (k, v) in actual_storage(acc) {
        if exp.storage_complete || listed.contains(&k) {
            let _ = writeln!(out, "  storage[{}] {}", hex_u256(k), hex_u256(v));
        }
    }
    if out.len() == start {
        out.push_str("  (exists)\n");
    }
}

fn render_whole(acc: &Account, out: &mut String) {
    let _ = writeln!(out, "  balance {}", render_balance(acc.balance));
    let _ = writeln!(out, "  nonce {}", acc.nonce);
    let _ = writeln!(out, "  code {}", render_code(&acc.code.bytes));
    for (k, v) in actual_storage(acc) {
        let _ = writeln!(out, "  storage[{}] {}", hex_u256(k), hex_u256(v));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ee_api::Bytecode;

    use super::*;

    fn addr(b: u8) -> Address {
        Address([b; 20])
    }

    fn account(balance: u64, nonce: u64, code: &[u8], storage: &[(u64, u64)]) -> Account {
        Account {
            balance: U256::from(balance),
            nonce,
            code: Arc::new(Bytecode::new(Arc::from(code))),
            storage: storage.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect::<bootloader::Map<_, _>>(),
        }
    }

    fn expected(accounts: Vec<ExpectedAccount>) -> ExpectedPost {
        ExpectedPost {
            accounts,
            notes: Vec::new(),
            section: 0,
            expect_exception: None,
            tx_addresses: Vec::new(),
            origin: "filler",
        }
    }

    #[test]
    fn matching_state_has_no_diff() {
        let mut state = WorldState::new();
        state.insert_account(addr(1), account(5, 1, &[0x60, 0x01], &[(0, 2), (3, 0)]));
        let mut e = ExpectedAccount::new(addr(1));
        e.balance = Some(U256::from(5));
        e.nonce = Some(1);
        e.code = Some(vec![0x60, 0x01]);
        e.storage = vec![(U256::ZERO, U256::from(2)), (U256::from(9), U256::ZERO)];
        e.storage_complete = true;
        let mut gone = ExpectedAccount::new(addr(2));
        gone.should_not_exist = true;
        let d = diff_post(&expected(vec![e, gone]), &state);
        assert!(d.is_empty(), "{d}");
        assert_eq!(d.to_string(), "");
    }

    #[test]
    fn every_kind_of_mismatch_is_named() {
        let mut state = WorldState::new();
        state.insert_account(addr(1), account(5, 1, &[0x60], &[(1, 7), (2, 4), (4, 1)]));
        state.insert_account(addr(2), account(0, 1, &[], &[]));
        let mut e = ExpectedAccount::new(addr(1));
        e.balance = Some(U256::from(6));
        e.nonce = Some(2);
        e.code = Some(vec![]);
        e.storage = vec![(U256::from(1), U256::from(2)), (U256::from(3), U256::from(1))];
        e.storage_any = vec![U256::from(4)];
        e.storage_complete = true;
        let mut gone = ExpectedAccount::new(addr(2));
        gone.should_not_exist = true;
        let missing = ExpectedAccount::new(addr(3));
        let d = diff_post(&expected(vec![e, gone, missing]), &state);
        let a1 = addr(1).to_string();
        assert_eq!(
            d.mismatches,
            vec![
                format!("{a1}: balance expected 6 (0x06), got 5 (0x05)"),
                format!("{a1}: nonce expected 2, got 1"),
                format!("{a1}: code expected 0x, got 0x60"),
                format!("{a1}: storage[0x01] expected 0x02, got 0x07"),
                format!("{a1}: storage[0x03] expected 0x01, got 0x00"),
                format!("{a1}: storage[0x02] expected 0x00 (not listed in the filler's complete storage), got 0x04"),
                format!("{}: should not exist but does (balance 0, nonce 1, 0 code bytes, 0 storage slots)", addr(2)),
                format!("{}: missing account", addr(3)),
            ]
        );
        assert!(d.unified.starts_with("--- expected (filler)\n+++ actual\n"), "{}", d.unified);
        assert!(
            d.unified.contains("\n-  storage[0x01] 0x02\n") && d.unified.contains("\n+  storage[0x01] 0x07\n"),
            "{}",
            d.unified
        );
        assert!(d.unified.contains("\n-  (exists)\n"), "a missing account: {}", d.unified);
        assert!(!d.unified.contains("storage[0x04]\n-"), "ANY slot renders alike on both sides: {}", d.unified);
    }

    #[test]
    fn contracts_moved_by_a_newer_filler_are_compared_at_their_old_address() {
        let low = |v: u64| Address::from_word(U256::from(v));
        let mut state = WorldState::new();
        state.insert_account(low(0x100), account(0, 0, &[0x00], &[(0, 1)]));
        state.insert_account(low(0x101), account(0, 0, &[0x00], &[]));
        let mut e = ExpectedAccount::new(low(0x1000));
        e.storage = vec![(U256::ZERO, U256::from(1))];
        e.storage_complete = true;
        let mut gone = ExpectedAccount::new(low(0x1002));
        gone.should_not_exist = true;
        let created = ExpectedAccount::new(addr(9));
        let d = diff_post(&expected(vec![e.clone(), gone]), &state);
        assert!(d.is_empty(), "{d}");
        assert_eq!(d.notes.len(), 1, "{d}");
        let d = diff_post(&expected(vec![e.clone(), created.clone()]), &state);
        assert_eq!(d.mismatches.len(), 1);
        assert!(d.mismatches[0].contains("missing account (perhaps created by a contract the filler moved"), "{d}");
        // Only a created account expected: the transaction's addresses show the move.
        let mut only_created = expected(vec![created]);
        assert_eq!(diff_post(&only_created, &state).mismatches, vec![format!("{}: missing account", addr(9))]);
        only_created.tx_addresses = vec![low(0x1001)];
        let d = diff_post(&only_created, &state);
        assert!(d.mismatches[0].contains("perhaps created by a contract the filler moved"), "{d}");
        // A state that has accounts in the moved range is taken as it is.
        state.insert_account(low(0x1001), account(1, 0, &[], &[]));
        let d = diff_post(&expected(vec![e]), &state);
        assert_eq!(d.mismatches, vec![format!("{}: missing account", low(0x1000))]);
        assert!(d.notes.is_empty());
    }

    #[test]
    fn hex_is_compact_and_even() {
        assert_eq!(hex_u256(U256::ZERO), "0x00");
        assert_eq!(hex_u256(U256::from(0x100)), "0x0100");
        assert!(render_code(&[0u8; 65]).contains("65 bytes"));
    }
}
