;; Loops until its gas runs out.
(module
  (memory (export "memory") 1)
  (func (export "call") (loop $forever (br $forever))))
