;; Stores slot 0 = the value it received, then sends 40 wei to 0x…beef (a new account) and
;; stores slot 1 = 0x10 + that call's status.
(module
  (import "env" "value" (func $value (param i32)))
  (import "env" "call" (func $call (param i32 i64 i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32)))
  (memory (export "memory") 1)
  ;; 0..20: the payee; 32..64: the amount (40); 64..96: key; 96..128: value.
  (data (i32.const 0) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\be\ef")
  (data (i32.const 63) "\28")
  (func (export "call")
    (call $value (i32.const 96))
    (call $storage_write (i32.const 64) (i32.const 96))
    (memory.fill (i32.const 96) (i32.const 0) (i32.const 32))
    (i32.store8 (i32.const 127)
      (i32.add (i32.const 0x10)
        (call $call (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 32) (i32.const 0) (i32.const 0))))
    (i32.store8 (i32.const 95) (i32.const 1))
    (call $storage_write (i32.const 64) (i32.const 96))))
