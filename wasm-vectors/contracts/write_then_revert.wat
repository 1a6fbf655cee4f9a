;; Writes slot 0 = 5, then reverts with the data 0xdead: the write must not survive.
(module
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 63) "\05")
  (data (i32.const 64) "\de\ad")
  (func (export "call")
    (call $storage_write (i32.const 0) (i32.const 32))
    (call $revert (i32.const 64) (i32.const 2))))
