//! The runner loop over an explicit stack of suspended EE frames.
