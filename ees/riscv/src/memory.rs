//! Guest memory: one flat, zero-initialised region of bytes at a fixed base address.

/// Why an access failed; the interpreter turns it into the matching trap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemFault {
    /// The address is not a multiple of the access width.
    Misaligned,
    /// Part of the access lies outside the region.
    OutOfRange,
}

/// A flat little-endian memory region `[base, base + len)`.
///
/// Flat and contiguous so that an access is one subtraction and one bounds check.
#[derive(Clone, Debug)]
pub struct Memory {
    base: u32,
    bytes: Vec<u8>,
}

impl Memory {
    /// A zeroed region. `size` is clamped so the region never wraps past `u32::MAX`.
    pub fn new(base: u32, size: u32) -> Self {
        let room = (1u64 << 32) - u64::from(base);
        let size = u64::from(size).min(room);
        Memory { base, bytes: vec![0; size as usize] }
    }

    pub fn base(&self) -> u32 {
        self.base
    }

    /// Length in bytes (a u64: a region based at 0 may span all 4 GiB).
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Whether `[addr, addr + len)` lies inside the region.
    pub fn contains(&self, addr: u32, len: u32) -> bool {
        self.offset(addr, len as usize).is_some()
    }

    #[inline(always)]
    fn offset(&self, addr: u32, len: usize) -> Option<usize> {
        let off = usize::try_from(addr.wrapping_sub(self.base)).ok()?;
        let end = off.checked_add(len)?;
        (end <= self.bytes.len()).then_some(off)
    }

    #[inline(always)]
    /// `N` is 1, 2 or 4, so `N - 1` masks the misaligned bits.
    fn read<const N: usize>(&self, addr: u32) -> Result<[u8; N], MemFault> {
        if addr as usize & (N - 1) != 0 {
            return Err(MemFault::Misaligned);
        }
        let off = self.offset(addr, N).ok_or(MemFault::OutOfRange)?;
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes[off..off + N]);
        Ok(out)
    }

    #[inline(always)]
    fn write<const N: usize>(&mut self, addr: u32, value: [u8; N]) -> Result<(), MemFault> {
        if addr as usize & (N - 1) != 0 {
            return Err(MemFault::Misaligned);
        }
        let off = self.offset(addr, N).ok_or(MemFault::OutOfRange)?;
        self.bytes[off..off + N].copy_from_slice(&value);
        Ok(())
    }

    #[inline(always)]
    pub fn load_u8(&self, addr: u32) -> Result<u8, MemFault> {
        self.read::<1>(addr).map(|b| b[0])
    }

    #[inline(always)]
    pub fn load_u16(&self, addr: u32) -> Result<u16, MemFault> {
        self.read(addr).map(u16::from_le_bytes)
    }

    #[inline(always)]
    pub fn load_u32(&self, addr: u32) -> Result<u32, MemFault> {
        self.read(addr).map(u32::from_le_bytes)
    }

    #[inline(always)]
    pub fn store_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault> {
        self.write(addr, [value])
    }

    #[inline(always)]
    pub fn store_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault> {
        self.write(addr, value.to_le_bytes())
    }

    #[inline(always)]
    pub fn store_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        self.write(addr, value.to_le_bytes())
    }

    /// The bytes at `[addr, addr + len)`, for an embedder reading guest buffers.
    pub fn slice(&self, addr: u32, len: u32) -> Option<&[u8]> {
        let len = len as usize;
        let off = self.offset(addr, len)?;
        Some(&self.bytes[off..off + len])
    }

    /// All of memory, for the interpreter's fast path.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Copies `data` to `addr`; false (and nothing written) when it does not fit.
    pub(crate) fn write_bytes(&mut self, addr: u32, data: &[u8]) -> bool {
        match self.offset(addr, data.len()) {
            Some(off) => {
                self.bytes[off..off + data.len()].copy_from_slice(data);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_alignment_and_endianness() {
        let mut m = Memory::new(0x8000_0000, 16);
        assert_eq!(m.size(), 16);
        m.store_u32(0x8000_0004, 0x1122_3344).unwrap();
        assert_eq!(m.load_u8(0x8000_0004), Ok(0x44));
        assert_eq!(m.load_u16(0x8000_0006), Ok(0x1122));
        assert_eq!(m.load_u32(0x8000_0002), Err(MemFault::Misaligned));
        assert_eq!(m.load_u32(0x8000_0010), Err(MemFault::OutOfRange));
        assert_eq!(m.load_u32(0x7fff_fffc), Err(MemFault::OutOfRange));
        assert_eq!(m.store_u16(0x8000_000f, 1), Err(MemFault::Misaligned));
        assert_eq!(m.load_u8(0x8000_000f), Ok(0));
        assert!(m.contains(0x8000_0000, 16));
        assert!(!m.contains(0x8000_0001, 16));
        assert!(!m.write_bytes(0x8000_000e, &[1, 2, 3]));
        assert_eq!(m.slice(0x8000_0004, 2), Some(&[0x44, 0x33][..]));
    }

    #[test]
    fn region_at_top_of_address_space_does_not_wrap() {
        let m = Memory::new(0xffff_fff0, 64);
        assert_eq!(m.size(), 16);
        assert_eq!(m.load_u32(0xffff_fffc), Ok(0));
        assert_eq!(m.load_u32(0), Err(MemFault::OutOfRange));
    }
}
