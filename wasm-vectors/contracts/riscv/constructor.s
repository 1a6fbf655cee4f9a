# a0 is 1 at entry in a constructor. Constructor: slot 0 = the first word of its input,
# slot 1 = the deployer. Calls: return slot 0.
    bnez a0, deploy
    la a0, key0
    la a1, word
    li a7, 5            # storage_read(key0, word)
    ecall
    la a0, word
    li a1, 32
    li a7, 3            # return(word, 32)
    ecall
deploy:
    la a0, word
    li a1, 0
    li a2, 32
    li a7, 2            # calldata_copy(word, 0, 32)
    ecall
    la a0, key0
    la a1, word
    li a7, 6            # storage_write(key0, word)
    ecall
    la a0, who
    addi a0, a0, 12
    li a7, 7            # caller(who + 12)
    ecall
    la a0, key1
    la a1, who
    li a7, 6            # storage_write(key1, who)
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
who:
    .zero 32
word:
    .zero 32
