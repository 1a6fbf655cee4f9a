//! Turning panics in the code under test into `crash` verdicts.
//!
//! A panic inside a case is caught, and its message and location are kept
//! for the report instead of being printed: with 100k cases, a bug that
//! panics in every one of them would otherwise bury the summary. Panics
//! outside a case (harness bugs) still go to the default hook.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the capturing hook once per process.
pub fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let msg = payload_message(info.payload());
                let text = match info.location() {
                    Some(l) => format!("panicked at {}:{}:{}: {msg}", l.file(), l.line(), l.column()),
                    None => format!("panicked: {msg}"),
                };
                LAST.with(|l| *l.borrow_mut() = Some(text));
            } else {
                default(info);
            }
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs `f`; a panic becomes `Err("panicked at file:line:col: message")`.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_quiet_hook();
    let was = CAPTURING.with(|c| c.replace(true));
    LAST.with(|l| l.borrow_mut().take());
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(was));
    result.map_err(|payload| LAST.with(|l| l.borrow_mut().take()).unwrap_or_else(|| payload_message(&*payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_becomes_message_with_location() {
        let err = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(err.contains("boom 7"), "{err}");
        assert!(err.contains("panics.rs:"), "{err}");
        assert_eq!(catch(|| 5), Ok(5));
    }
}
