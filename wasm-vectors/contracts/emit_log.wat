;; Emits one log: topics 0x01 and 0x02, data "hi".
(module
  (import "env" "log" (func $log (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 31) "\01")
  (data (i32.const 63) "\02")
  (data (i32.const 64) "hi")
  (func (export "call")
    (call $log (i32.const 0) (i32.const 2) (i32.const 64) (i32.const 2))))
