# Stores slot 0 = the value it received, slot 1 = its own balance.
    la a0, word
    li a7, 9            # value(word)
    ecall
    la a0, key0
    la a1, word
    li a7, 6            # storage_write(key0, word)
    ecall
    la a0, self
    addi a0, a0, 12
    li a7, 8            # address(self + 12)
    ecall
    la a0, self
    addi a0, a0, 12
    la a1, word
    li a7, 17           # balance(self, word)
    ecall
    la a0, key1
    la a1, word
    li a7, 6            # storage_write(key1, word)
    ecall
    li a0, 0
    li a1, 0
    li a7, 3            # return(0, 0)
    ecall
key0:
    .zero 32
key1:
    .zero 31
    .byte 1
self:
    .zero 32
word:
    .zero 32
