;; wasmi 2.0.0 panics translating this module (engine/translator/func/mod.rs:2583, `unreachable!()` in
;; choose_store_op_vt): its last function stores a local, just set from `i32.trunc_sat_f32_u`, at the
;; address held by the same local with an offset beyond 16 bits (`i32.store8 offset=0x9dfd5`). Shrunk from
;; case seed 8035014639997879187 (campaign seed 1). ee-wasm instantiates it; the allow-list rule
;; `wasmi-store-translation-panic` covers it.
(module binary
  "\00asm\01\00\00\00\01\05\01`\00\01p\03\05\04\00\00\00\00\04\09\02o\01\1f$o\01Y"
  "c\05\04\01\01\03\04\06U\0ap\01\d0p\0b|\00D\87K\c7\ce\b6\cf\93u\0b~\01B\e8\c2"
  "\b5\b5\eb\d5\b4\c5\f0\00\0b\7f\01A\e1\8d\dd\94\04\0b|\01D?\c1R?`\b5+w\0b|\01"
  "D\9fo\cf\85\19efo\0b\7f\01A\00\0b\7f\01A\00\0b~\01B\00\0b~\01B\00\0b\07\01"
  "\00\09\0b\02\07p\00\06\00A\02\0bo\00\0aB\04\03\00\00\0b\03\00\00\0b\03\00\00\0b4\01\01"
  "\7fA\ff\ff~\c0\04\00B\bd\a9\ff\e3\90\97\b8\fb\86\7f \00(\00\fd\dd\0d\b3\fc\01!\00\b4"
  "\fc\04 \00 \00:\00\d5\df\09\c2\01\00\05\00\0b\0b")

