;; Returns the word at slot 0 (a read, allowed in a static frame).
(module
  (import "env" "storage_read" (func $storage_read (param i32 i32)))
  (import "env" "return" (func $return (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "call")
    (call $storage_read (i32.const 0) (i32.const 32))
    (call $return (i32.const 32) (i32.const 32))))
