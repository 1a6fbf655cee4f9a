//! The operations that act on the world beyond the frame: storage and transient storage,
//! events, L2→L1 messages, precompile calls and decommit. Semantics of vm2 0.5.0 (its
//! `instruction_handlers/{storage,event,precompiles,decommit}.rs` and `world_diff.rs`, read,
//! not copied): the static price, the kernel and static checks are the run loop's; what is
//! here runs once the condition holds. Operands are registers read as values (pointer
//! metadata erased in user frames, as every value read).

use ee_api::{Address, U256};

use super::far_call::kernel_address;
use super::world::{Event, L2ToL1Log, TxState, Undo, World};
use super::{cost, pointer, ForeignPage, Machine, KERNEL_HEAP_STIPEND};
use crate::decode::Instruction;
use crate::table::{Modifiers, Op};

/// EventWriter: only its `event`s are recorded (anywhere else the op is a paid no-op).
pub const EVENT_WRITER: Address = kernel_address(0x800d);

impl Machine {
    /// `sload`: r(src0) is the key; the value goes to dst0. A slot already read or written
    /// this transaction (or a free one) refunds the difference to a warm read.
    pub(super) fn storage_read(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) {
        let key = self.reg_value(ins.src0);
        let address = self.address;
        let newly_read = tx.read_slots.insert((address, key));
        let value = world.storage_read(address, key);
        if !newly_read || world.is_free_slot(address, key) {
            self.ergs += cost::WARM_READ_REFUND;
        }
        self.set_reg(ins.dst0, value);
    }

    /// `sstore`: r(src0) the key, r(src1) the value. Refunds and pubdata as vm2's
    /// `write_storage`: a free slot gets the warm refund and costs no pubdata; otherwise the
    /// write pays the pubdata change against what the slot already paid this transaction,
    /// and the refund is 0 (cold), the read's price (first write after a read) or the warm
    /// one (written before).
    pub(super) fn storage_write(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) {
        let key = self.reg_value(ins.src0);
        let value = self.reg_value(ins.src1);
        let address = self.address;
        let slot = (address, key);
        let old = world.storage_read(address, key);
        tx.journal.push(Undo::Storage(address, key, old));
        if world.is_free_slot(address, key) {
            world.storage_write(address, key, value);
            tx.written_slots.insert(slot);
            tx.read_slots.insert(slot);
            self.ergs += cost::WARM_WRITE_REFUND;
            return;
        }
        let update_cost = world.pubdata_cost(address, key, value);
        world.storage_write(address, key, value);
        let prepaid = tx.paid_changes.insert(slot, update_cost);
        tx.journal.push(Undo::Paid(slot, prepaid));
        let refund = if tx.written_slots.insert(slot) {
            if tx.read_slots.insert(slot) {
                0
            } else {
                cost::COLD_WRITE_AFTER_WARM_READ_REFUND
            }
        } else {
            cost::WARM_WRITE_REFUND
        };
        tx.journal.push(Undo::Pubdata(tx.pubdata));
        tx.pubdata = tx.pubdata.wrapping_add(update_cost as i32 - prepaid.unwrap_or(0) as i32);
        self.ergs += refund;
    }

    /// `tload`: r(src0) the key, the value to dst0.
    pub(super) fn transient_read(&mut self, ins: &Instruction, world: &mut dyn World) {
        let key = self.reg_value(ins.src0);
        let value = world.transient_read(self.address, key);
        self.set_reg(ins.dst0, value);
    }

    /// `tstore`: r(src0) the key, r(src1) the value.
    pub(super) fn transient_write(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) {
        let key = self.reg_value(ins.src0);
        let value = self.reg_value(ins.src1);
        let old = world.transient_read(self.address, key);
        tx.journal.push(Undo::Transient(self.address, key, old));
        world.transient_write(self.address, key, value);
    }

    /// `event` (recorded only when `this` is EventWriter) and `to_l1`: key r(src0), value
    /// r(src1), the `.i` flag (first packet / service log), the transaction number.
    pub(super) fn log(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) {
        let key = self.reg_value(ins.src0);
        let value = self.reg_value(ins.src1);
        let flag = ins.has(Modifiers::FIRST);
        if ins.op == Op::Event {
            if self.address == EVENT_WRITER {
                world.event(Event { key, value, is_first: flag, tx_number: tx.tx_number });
                tx.journal.push(Undo::Event);
            }
        } else {
            world.l2_to_l1_log(L2ToL1Log {
                key,
                value,
                is_service: flag,
                address: self.address,
                tx_number: tx.tx_number,
            });
            tx.journal.push(Undo::L2ToL1Log);
        }
    }

    /// `decommit`: r(src0) a versioned hash, r(src1)'s low 32 bits extra ergs. Unpayable
    /// extra ergs (all ergs gone) or a hash that is neither EraVM (0x01) nor EVM (0x02)
    /// code with marker 0 or 1 gives 0 in dst0. Otherwise the code goes on a new page and
    /// dst0 gets a pointer to it of length 2 MiB (vm2's kernel stipend, whatever the code's
    /// length); the extra ergs come back when the hash was decommitted before.
    pub(super) fn decommit(&mut self, ins: &Instruction, world: &mut dyn World, tx: &mut TxState) {
        let hash = self.reg_value(ins.src0);
        let extra = self.reg_value(ins.src1).as_limbs()[0] as u32;
        let b = hash.to_be_bytes::<32>();
        if !self.use_ergs(extra) || !matches!(b[0], 1 | 2) || b[1] > 1 {
            self.set_reg(ins.dst0, U256::ZERO);
            return;
        }
        let fresh = tx.decommitted.insert(hash, true) != Some(true);
        let code = world.code_by_hash(hash).unwrap_or_default();
        if !fresh {
            self.ergs += extra;
        }
        let page = tx.allocate_page();
        self.foreign.push(ForeignPage { id: page, base: 0, bytes: code.into() });
        self.set_reg(ins.dst0, pointer(0, page, 0, KERNEL_HEAP_STIPEND));
        self.ptr_tags |= (ins.dst0 != 0) as u32 * (1 << ins.dst0);
    }

    /// `precompile_call`: r(src1) holds extra ergs (bits 0–31, unpayable: vm2's panic next)
    /// and extra pubdata (bits 32–63); r(src0) the ABI (input offset and length, output
    /// offset and length, read and write pages — 0 for the frame's heap — and the
    /// precompile's own word). The precompile is chosen by `this`'s low 16 bits; its output
    /// words go to the write page at output offset × 32, at most output length of them.
    /// dst0 gets 1. Returns false when the precompile is one this machine lacks.
    pub(super) fn precompile_call(&mut self, ins: &Instruction, tx: &mut TxState) -> bool {
        let aux = self.reg_value(ins.src1).as_limbs()[0];
        if !self.use_ergs(aux as u32) {
            self.spontaneous_panic = true;
            return true;
        }
        tx.journal.push(Undo::Pubdata(tx.pubdata));
        tx.pubdata = tx.pubdata.wrapping_add((aux >> 32) as u32 as i32);
        let abi = *self.reg_value(ins.src0).as_limbs();
        let (in_offset, in_length) = (abi[0] as u32, (abi[0] >> 32) as u32);
        let (out_offset, out_length) = (abi[1] as u32, (abi[1] >> 32) as u32);
        let page_or_heap = |p: u32| if p == 0 { self.heap_page } else { p };
        let (read_page, write_page) = (page_or_heap(abi[2] as u32), page_or_heap((abi[2] >> 32) as u32));
        let precompile = u16::from_be_bytes([self.address.0[18], self.address.0[19]]);
        let Some(output) = super::precompiles::call(
            precompile,
            |start, len| self.read_page(read_page, start, len),
            in_offset,
            in_length,
            abi[3],
        ) else {
            return false;
        };
        let mut at = out_offset.wrapping_mul(32);
        for word in output.iter().take(out_length as usize) {
            self.write_page_word(write_page, at, *word);
            at = at.wrapping_add(32);
        }
        self.set_reg(ins.dst0, U256::from(1));
        true
    }

    /// Writes a word to a page as a precompile does: the frame's heaps without touching their
    /// paid bounds, or a page it holds (vm2 writes wherever the ABI names).
    fn write_page_word(&mut self, page: u32, at: u32, value: U256) {
        if page == self.heap_page {
            self.heap.write(at, value);
        } else if page == self.aux_page {
            self.aux.write(at, value);
        } else {
            let current = self.foreign.iter().rev().find(|p| p.id == page).cloned();
            let mut p = current.unwrap_or(ForeignPage { id: page, base: 0, bytes: Vec::new().into() });
            let base = p.base.min(at);
            let mut bytes = p.range(base, (at - base + 32).max(p.base - base + p.bytes.len() as u32));
            let i = (at - base) as usize;
            bytes[i..i + 32].copy_from_slice(&value.to_be_bytes::<32>());
            p = ForeignPage { id: page, base, bytes: bytes.into() };
            self.foreign.push(p);
        }
    }
}
