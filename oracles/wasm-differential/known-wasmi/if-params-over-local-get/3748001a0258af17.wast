;; wasmi 2.0.0's lost `local.get` under an `if` with parameters (allow-list rule
;; `wasmi-if-params-over-local-get`; isolated in ../if-params-over-local-get.wast). Found by
;; campaign seed 7 (100,000 modules). The expectation of the global below is the spec's: ee-wasm
;; and wasmtime 51.0.0 (PyPI, a third engine) agree on it; wasmi's differing value is in the
;; divergence lines. Replay: conformance differential wasm --replay FILE stops with the rule.
;; wasm-differential: case seed 3983433982117719831 (3748001a0258af17); expected values are the spec's
;; divergence (state): after invoke "3" (ref.null func): global "o8\u{15}" differs
;; ee-wasm: Some(I32(63))
;; wasmi:   Some(I32(-1927899368))
(module binary
  "\00asm\01\00\00\00\01\0a\01`\01p\05|~\7f|p\03\05\04\00\00\00\00\04\09\02o\01"
  "\04Zp\01\13m\05\04\01\01\01\03\06\1a\05o\01\d0o\0b~\01B\00\0b\7f\01A\00\0b~\01"
  "B\00\0b\7f\01A\00\0b\07\0b\02\013\00\03\03o8\15\03\04\09\0b\02\07o\00\06\01A\00\0b"
  "p\00\0c\01\01\0a\9d\03\04\03\00\00\0b\03\00\00\0b\03\00\00\0b\8e\03\04\01\7f\01~\01p\01}"
  "D\d9d\e9\deLL\ad\b9D\ff\ff\ff\fe\ff\ff\ff\ff\9ae \02CP\fa\b4\98\8d\22\04C\00"
  "\00\c0\7f \04 \04[\1b\a8\22\01\d0p\fc\0d\01B\e2\8a\dc\fa\ab\eb\bd\de\0by\fc\10\010"
  "\00\fc\e7\02yY\04\00!\03 \00!\03A\e8\9a\e4\e3}i \00\fc\0d\01\d1Hh\01)\03"
  "\cb\f9\03#\00#\00A\ff\ff\ff_!\01\fc\10\00+\01\94a\9a\fc\07#\00A\ff\ff\07(\01"
  "\8f\c8\01\c1\adP/\00\c67,\00\d7e@\00\04@\03~A\ff\ff\1f-\00\b4Y\d0pD\00"
  "\00\00\00\00\00\b0\bc\b0\22\02\22\02y\03@\01\fc\09\00\fc\10\00 \02\ba\fc\09\00\99\b1\a7\fc"
  "\10\00;\00\a5\dc\03\d0o\fc\09\00\fc\0d\01$\00#\04s$\04\0b#\03\85$\03\1a\1aB\98"
  "\c5\97\ea\84\89\be\e1J\0b#\03\85$\03\0b\1a#\03\85$\03\1a\1a\1aDJ,6]{B\ed"
  "\c1B\ee\dd\bb\f7\ee\dd\bb\f7nA\e6\f9\d9\c4~D\00\81\a0&u=\c4\d9\d0p\05\1aD?"
  "\00\00\00\00\00\00\00B\8c\e3\8d\90\8c\b4\ac\b1\02A?D\bf\ff\ff\ff\ff\ff\ff\ff\d0p\0b\1a"
  "\bd#\01\85$\01#\04s$\04#\03\85$\03\1a#\04s$\04#\03\85$\03#\04s$\04"
  "D\09a=L\97M\0dMB\a9\ec\e7\8f\eb\e7\f8\b6fA\a7\ae\da\e8xD\02\00\00\00\00\00"
  "\00\00\d0p\0b\0b\07\01\00A\92:\0b\00")
(assert_return (invoke "3" (ref.null func)) (f64.const 1.5068239977177814e63) (i64.const -1842566814111238615) (i32.const -1927899353) (f64.const 1e-323) (ref.null func))
(assert_return (get "o8\15") (i32.const 63))
