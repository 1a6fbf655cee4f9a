;; Gas vector (wasm-gas.json, wasm_gas_bulk_ops_and_branches): bulk memory ops (charged
;; per 64 bytes), a grow past the contract's 256-page bound (returns -1, no per-page
;; charge), if/else, br_table, then one storage write of memory[32..64] at key
;; memory[512..544] (zero: slot 0).
(module
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call")
    (memory.fill (i32.const 0) (i32.const 7) (i32.const 200))
    (memory.copy (i32.const 256) (i32.const 0) (i32.const 130))
    (drop (memory.grow (i32.const -1)))
    (if (i32.eq (i32.load8_u (i32.const 5)) (i32.const 7))
      (then (i32.store8 (i32.const 63) (i32.const 9)))
      (else (i32.store8 (i32.const 63) (i32.const 1))))
    (block $a (block $b (br_table $a $b (i32.const 1))))
    (call $storage_write (i32.const 512) (i32.const 32))))
