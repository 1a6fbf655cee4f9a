#!/usr/bin/env python3
"""Wraps Intel HEX images of riscv-tests programs in minimal ELF32 executables.

    hex2elf.py OUT_DIR IMAGE.hex...

Each image becomes OUT_DIR/<name without .hex>: one PT_LOAD segment (RWX) per contiguous
run of bytes, holding exactly the image's bytes at the image's addresses. The entry point
is the lowest loaded address, which is `_start` in the riscv-tests `p` layout (0x80000000;
the start-address records in these images are not reliable: some say 0x80002000, where
`.data` begins). There is no symbol table, so the loader uses the default `tohost`
(0x80001000, where the `p` env's link.ld puts it). Files whose name has a second
extension (e.g. `x.hex.hex`) are skipped as duplicates.
"""

import os
import struct
import sys

EM_RISCV = 243
PF_RWX = 7


def parse_hex(path):
    """The image as {address: byte}."""
    image, upper = {}, 0
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            if not line.startswith(":"):
                raise ValueError(f"{path}:{number}: not an Intel HEX record")
            record = bytes.fromhex(line[1:])
            count, offset, kind = record[0], int.from_bytes(record[1:3], "big"), record[3]
            data = record[4 : 4 + count]
            if len(data) != count or sum(record) & 0xFF:
                raise ValueError(f"{path}:{number}: bad length or checksum")
            if kind == 0:  # data
                for i, byte in enumerate(data):
                    image[upper + offset + i] = byte
            elif kind == 1:  # end of file
                break
            elif kind == 2:  # extended segment address
                upper = int.from_bytes(data, "big") << 4
            elif kind == 4:  # extended linear address
                upper = int.from_bytes(data, "big") << 16
            # 3 and 5 (start addresses) are ignored, see above.
    if not image:
        raise ValueError(f"{path}: no data")
    return image


def runs(image):
    """Contiguous (start, bytes) runs of the image, in address order."""
    out, start, data = [], None, bytearray()
    for addr in sorted(image):
        if start is not None and addr == start + len(data):
            data.append(image[addr])
            continue
        if start is not None:
            out.append((start, bytes(data)))
        start, data = addr, bytearray([image[addr]])
    out.append((start, bytes(data)))
    return out


def elf(image):
    segments = runs(image)
    entry = segments[0][0]
    phoff, phentsize = 52, 32
    offset = phoff + phentsize * len(segments)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)  # ELFCLASS32, little-endian, version 1
    header = ident + struct.pack(
        "<HHIIIIIHHHHHH", 2, EM_RISCV, 1, entry, phoff, 0, 0, 52, phentsize, len(segments), 40, 0, 0
    )
    program_headers, body = b"", b""
    for start, data in segments:
        program_headers += struct.pack(
            "<IIIIIIII", 1, offset + len(body), start, start, len(data), len(data), PF_RWX, 4
        )
        body += data
    return header + program_headers + body


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out_dir = argv[0]
    os.makedirs(out_dir, exist_ok=True)
    for path in argv[1:]:
        name = os.path.basename(path)
        if name.endswith(".hex"):
            name = name[: -len(".hex")]
        if "." in name:
            continue
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(elf(parse_hex(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
