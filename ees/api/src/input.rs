//! Call input that need not be copied: a window of a shared buffer whose
//! unstored tail reads as zeros.
//!
//! Why: an EVM caller is suspended for the whole life of its callee, so it can
//! lend its memory to the callee as calldata instead of copying it, and take
//! it back (without a copy) when the callee has ended. And EVM memory that was
//! paid for but never written need not exist: `static_Call1MB1024Calldepth`
//! hands 1 MB of untouched memory down hundreds of frames, which as copies
//! cost a gigabyte per case.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// `len` bytes starting at `start` of a shared buffer; the bytes past the
/// buffer's end are zeros.
#[derive(Clone)]
pub struct CallInput {
    buf: Arc<Vec<u8>>,
    start: usize,
    len: usize,
}

impl CallInput {
    /// No bytes.
    pub fn empty() -> CallInput {
        CallInput::from_vec(Vec::new())
    }

    /// Owns `bytes` (the transaction's data, an input built by a host).
    pub fn from_vec(bytes: Vec<u8>) -> CallInput {
        let len = bytes.len();
        CallInput { buf: Arc::new(bytes), start: 0, len }
    }

    /// `len` bytes of `buf` from `start`; the part past `buf`'s end is zeros.
    pub fn window(buf: Arc<Vec<u8>>, start: usize, len: usize) -> CallInput {
        CallInput { buf, start, len }
    }

    /// Whether this input is a window of `buf` (the very buffer, not equal bytes): lets an
    /// EE recognise the input it lent for its own call and pass along what only it knows.
    pub fn shares_buffer(&self, buf: &Arc<Vec<u8>>) -> bool {
        Arc::ptr_eq(&self.buf, buf)
    }

    /// The input's length, zero tail included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The stored prefix of the input; the remaining `len() - stored().len()` bytes are zeros.
    /// Zero-padded reads from it (as CALLDATALOAD and CALLDATACOPY do) see the whole input.
    pub fn stored(&self) -> &[u8] {
        let from = self.start.min(self.buf.len());
        let to = self.start.saturating_add(self.len).min(self.buf.len());
        &self.buf[from..to]
    }

    /// The whole input as one slice, copied only when it has a zero tail.
    pub fn to_cow(&self) -> Cow<'_, [u8]> {
        let stored = self.stored();
        if stored.len() == self.len {
            Cow::Borrowed(stored)
        } else {
            let mut all = Vec::with_capacity(self.len);
            all.extend_from_slice(stored);
            all.resize(self.len, 0);
            Cow::Owned(all)
        }
    }
}

impl From<&[u8]> for CallInput {
    fn from(bytes: &[u8]) -> CallInput {
        CallInput::from_vec(bytes.to_vec())
    }
}

impl fmt::Debug for CallInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallInput({} bytes, {} stored)", self.len, self.stored().len())
    }
}

impl PartialEq for CallInput {
    fn eq(&self, other: &CallInput) -> bool {
        self.len == other.len && self.to_cow() == other.to_cow()
    }
}

impl Eq for CallInput {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_with_zero_tail() {
        let buf = Arc::new(vec![1, 2, 3, 4]);
        let w = CallInput::window(buf.clone(), 2, 5);
        assert_eq!(w.len(), 5);
        assert_eq!(w.stored(), &[3, 4]);
        assert_eq!(w.to_cow().as_ref(), &[3, 4, 0, 0, 0]);
        let past = CallInput::window(buf.clone(), 10, 3);
        assert_eq!(past.stored(), &[] as &[u8]);
        assert_eq!(past.to_cow().as_ref(), &[0, 0, 0]);
        let inside = CallInput::window(buf, 1, 2);
        assert!(matches!(inside.to_cow(), Cow::Borrowed(&[2, 3])), "a stored window is not copied");
        assert_eq!(CallInput::from(&[3u8, 4, 0, 0, 0][..]), w, "equality compares the bytes, zero tail included");
        assert!(CallInput::empty().is_empty());
    }
}
