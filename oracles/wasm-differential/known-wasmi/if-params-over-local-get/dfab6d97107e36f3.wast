;; wasmi 2.0.0's lost `local.get` under an `if` with parameters (allow-list rule
;; `wasmi-if-params-over-local-get`; isolated in ../if-params-over-local-get.wast). Found by
;; campaign seed 7 (100,000 modules). The expectation of the global below is the spec's: ee-wasm
;; and wasmtime 51.0.0 (PyPI, a third engine) agree on it; wasmi's differing value is in the
;; divergence lines. Replay: conformance differential wasm --replay FILE stops with the rule.
;; wasm-differential: case seed 16117096187059648243 (dfab6d97107e36f3); expected values are the spec's
;; divergence (state): after invoke "4" (f64.const -5.0660926899185856e-5): global "13" differs
;; ee-wasm: Some(I64(2532436689531383157))
;; wasmi:   Some(I64(-7192377967744935907))
(module binary
  "\00asm\01\00\00\00\01\0f\03`\02\7fp\00`\01|\02po`\00\00\03\0c\0b\00\00\01\02"
  "\01\00\01\00\02\02\00\06\1d\05}\01C\09Z\98\ce\0b\7f\01A\00\0b~\01B\00\0b\7f\01A\00"
  "\0b~\01B\00\0b\07\0a\02\014\00\04\0213\03\02\09\0a\03\05o\00\07o\00\05o\00\0a\c2"
  "\02\0b\03\00\00\0b\03\00\00\0b\03\00\00\0b\03\00\00\0b\97\02\04\01}\01|\01|\01|\d0o "
  "\00\bd#\00A\b3\e1\f2\e5\05\01\ac\c4A\ff\ff\ff\1f\b8\fc\07Y\acB\98\b0\de\f1\85\cb\e2\97"
  "\9c\7f#\00#\00[\d0pA\80`#\00\8e\22\01C\00\00\c0\7f \01 \01[\1b$\00\fc\0d"
  "\01D\ff\ff\ff\ff\ff\ff\7f\00 \00\99 \00\9b\22\02D\00\00\00\00\00\00\f8\7f \02 \02a"
  "\1bC\10\00\00\00#\00_\04\01\03}B\81\d0\90\8b\df\fb\97\b8\eb\00\d0p\03\02C\89\85\ef"
  "H\fc\04\bf\9e\22\03D\00\00\00\00\00\00\f8\7f \03 \03a\1b\9c\22\04D\00\00\00\00\00\00"
  "\f8\7f \04 \04a\1b\bd#\04\85$\04\0b\1a#\02\85$\02C\b5\82\bf\e6\0b\bc#\01s$"
  "\01\bd#\04\85$\04\d0p\d0o\05\bd#\04\85$\04\d0p\d0o\0b\1a\1a\bd#\04\85$\04\bd"
  "#\04\85$\04#\03s$\03\1a#\03s$\03#\02\85$\02#\02\85$\02\bc#\01s$\01"
  "#\02\85$\02\1a\d0p\d0o\0b\03\00\00\0b\03\00\00\0b\03\00\00\0b\03\00\00\0b\03\00\00\0b\03"
  "\00\00\0b")
(assert_return (invoke "4" (f64.const -5.0660926899185856e-5)) (ref.null func) (ref.null extern))
(assert_return (get "13") (i64.const 2532436689531383157))
