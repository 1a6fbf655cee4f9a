;; wasmi 2.0.0's lost `local.get` under an `if` with parameters (allow-list rule
;; `wasmi-if-params-over-local-get`; isolated in ../if-params-over-local-get.wast). Found by
;; campaign seed 7 (100,000 modules). The expectation of the global below is the spec's: ee-wasm
;; and wasmtime 51.0.0 (PyPI, a third engine) agree on it; wasmi's differing value is in the
;; divergence lines. Replay: conformance differential wasm --replay FILE stops with the rule.
;; wasm-differential: case seed 8411805927457386581 (74bcbcec619f7055); expected values are the spec's
;; divergence (state): after invoke "" (f32.const -1817.0372): global "6" differs
;; ee-wasm: Some(I32(0))
;; wasmi:   Some(I32(-1298033943))
(module binary
  "\00asm\01\00\00\00\01+\08`\01|\00`\01\7f\03o}\7f`\01}\02|\7f`\01\7f\00"
  "`\02~p\03\7f~|`\02}\7f\00`\00\00`\02|}\00\02\01\00\03\03\02\02\05\04\05\01"
  "p\01\006\067\07~\00B\e2\91\bf\cc\f3\89\86\90\dc\00\0b|\00D\f2\b9M\d2\e1\81\c5M"
  "\0b}\00C\db\e9R\8d\0b\7f\01A\00\0b\7f\01A\00\0b~\01B\00\0b~\01B\00\0b\07\08\02"
  "\00\00\00\016\03\03\0a\cf\04\02\c8\04\07\01|\01}\01}\01}\01|\01|\01| \00 \00"
  "\d0pD\81\c0|\9c\0c\b6\d3M\9e\22\01D\00\00\00\00\00\00\f8\7f \01 \01a\1b\d0p\d0"
  "pB\80\80\80xy\c2\b5 \00\8d\22\02C\00\00\c0\7f \02 \02[\1b\fc\00h\04\02\fc\01"
  "\fc\10\00t \00\90\22\03C\00\00\c0\7f \03 \03[\1b\ae \00B\b1\af\cb\ee\fb\c9\8c\84"
  "\ec\00\d0p \00\8e\22\04C\00\00\c0\7f \04 \04[\1b#\01\fc\02EE\10\01DX\c7\c8"
  ";\d5\aa\f4@\9e\22\05D\00\00\00\00\00\00\f8\7f \05 \05a\1b\9c\22\06D\00\00\00\00\00"
  "\00\f8\7f \06 \06a\1b\fc\03\c1\02p\fc\10\00gh\d0o\d0o#\01\fc\03\02\03\b8\9e\22"
  "\07D\00\00\00\00\00\00\f8\7f \07 \07a\1b\0c\00D\00\00\00\00\00\00\fc\ffA\80\80\80\fc"
  "\07ggB\a3\d4\aa\b8\e1\a0\ac\fe\bf\7fA\af\d5\f7\87z\b7\02@\0b\03}\0c\01 \00\a8B"
  "\da\e2\dd\d2\dd\83\f0\e3\92\7f\b5\bc\0e\02\00\01\00\b7\fc\02\0c\00\0c\00\ac\c4\ba\fc\10\00C\00"
  "\00\00\fe\8c\fc\01G%\00\02}A\c8\8f\db\15i\0e\02\01\02\02\d0oB\d8\ff\ce\cc\e7\b1\85"
  "\f6\d2\00yC6\00\00\00#\00\b5\fc\04D\1dAe\ea\b7M\c7\e2\ab\0c\02\02}C\1f\00\00"
  "\00\0b\bc#\03s$\03#\04s$\04#\05\85$\05\bc#\03s$\03#\05\85$\05\1aC\00"
  "\00\f8\ff\0b\bc#\03s$\03\1a\bd#\06\85$\06C?\00\00\00\0b\bc#\03s$\03\bd#\06"
  "\85$\06#\05\85$\05#\04s$\04\bd#\06\85$\06\bd#\06\85$\06\0b\1a\1a#\04s$"
  "\04\d0p\0b\1a#\04s$\04\1a#\05\85$\05\bc#\03s$\03#\05\85$\05#\04s$\04"
  "D\00\00\00\00\01\00\00\00A\dc\f7\b5\c9z\05\bc#\03s$\03D\a3\1d8\a2\ebEbWA"
  "\c5\de\99\13\0b#\04s$\04\bd#\06\85$\06\1a\1a\bd#\06\85$\06\1a\bc#\03s$\03\bc"
  "#\03s$\03D\ff\ff\0f\00\00\00\00\00A\e7\ef\93\e2\06\0b\03\00\00\0b")
(assert_return (invoke "" (f32.const -1817.0372)) (f64.const 5.18065e-318) (i32.const 1816459239))
(assert_return (get "6") (i32.const 0))
