# Writes slot 0 = 5, then reverts with the data 0xbeef: the write must not survive.
    la a0, key0
    la a1, five
    li a7, 6            # storage_write(key0, five)
    ecall
    la a0, data
    li a1, 2
    li a7, 4            # revert(data, 2)
    ecall
key0:
    .zero 32
five:
    .zero 31
    .byte 5
data:
    .byte 0xbe, 0xef
