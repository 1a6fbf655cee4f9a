(module (func (export "spin") (loop (br 0))) (func (export "deep") (call 1)))
(invoke "spin")
(assert_exhaustion (invoke "deep") "call stack exhausted")
