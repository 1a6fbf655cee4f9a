//! Recursive-length-prefix encoding.
