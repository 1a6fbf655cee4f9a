;; Static-calls the EVM contract 0x…0e000a (which tries SSTORE) and stores
;; slot 0 = 0x10 + the call's status (2: the callee halted).
(module
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\0e\00\0a")
  (func (export "call")
    (i32.store8 (i32.const 127)
      (i32.add (i32.const 0x10)
        (call $call (i32.const 1) (i64.const -1) (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0))))
    (call $storage_write (i32.const 64) (i32.const 96))))
