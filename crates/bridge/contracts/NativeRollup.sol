// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {L1Message, Rollup, Withdrawal} from "./lib/Rollup.sol";
import {TraceHeader} from "./lib/TraceHeader.sol";
import {MerkleTrie} from "./lib/MerkleTrie.sol";
import {L1MessageInbox} from "./L1MessageInbox.sol";

/// The rollup on L1: its head and state-root history, the L1→L2 message queue, `advance` (which
/// has EXECUTE verify each L2 block), withdrawals proven against verified L2 state roots, and
/// governance by an owner behind a timelock. Normative description: docs/protocol.md §8.
contract NativeRollup {
    /// The EXECUTE precompile.
    address public constant EXECUTE = address(0x101);

    /// One L2 block of a batch: the L1 block its anchor references, how many queued messages it
    /// applies, and its EXECUTE trace (block header first; transactions in it or in blobs).
    struct BlockCommitment {
        uint64 l1Anchor;
        uint32 messageCount;
        bytes trace;
    }

    /// One L2 block of a run (`advanceRun`): the L1 block its anchor references and how many
    /// queued messages it applies; its header is in the run's trace.
    struct RunBlock {
        uint64 l1Anchor;
        uint32 messageCount;
    }

    /// Where an advance stands while it walks its blocks.
    struct Cursor {
        /// Index of the next message to consume, and the rolling hash through the one before.
        uint64 next;
        bytes32 rolling;
        /// Messages of the call used so far.
        uint256 taken;
        /// Message cost of the last block.
        uint64 lastCost;
        /// The block the next one must extend, and the L1 anchor it used.
        bytes32 parentHash;
        uint64 parentNumber;
        uint64 lastL1Anchor;
        /// A run: where its next block starts in the trace, where its blocks end, and the
        /// EXECUTE gas of its blocks so far.
        uint256 offset;
        uint256 end;
        uint64 executeGas;
    }

    struct QueueEntry {
        bytes32 rollingHash;
        uint64 enqueuedAt;
        /// `Rollup.messageCost` of the message (gas limit, overhead and data).
        uint64 cost;
    }

    /// When an L2 block's state root was posted and when withdrawals proven against it become
    /// claimable (fixed at posting: a later change of `withdrawalDelay` never moves it).
    struct Posting {
        uint64 postedAt;
        uint64 withdrawableAt;
    }

    /// Timelocked owner actions; payloads are ABI-encoded arguments.
    enum Action {
        SetSequencer, // (address)
        SetForcedInclusionWindow, // (uint64 seconds)
        SetWithdrawalDelay, // (uint64 seconds)
        SetDepositsPaused, // (bool)
        SetTimelockDelay, // (uint64 seconds)
        TransferOwnership, // (address)
        SetL2Parameter // (bytes32 key, uint256 value): a governance message to L2Governance
    }

    /// Gas limit of every L2 block (the genesis one): the proposer has no choice, so no one can
    /// starve or bloat the L2 by moving it (docs/protocol.md §8.4).
    uint64 public immutable l2GasLimit;

    address public owner;
    address public sequencer;
    uint64 public forcedInclusionWindow;
    uint64 public withdrawalDelay;
    uint64 public timelockDelay;
    bool public depositsPaused;

    bytes32 public headStateRoot;
    bytes32 public headHash;
    uint64 public headNumber;
    uint64 public lastAdvanceAt;
    uint64 public lastL1Anchor;
    mapping(uint64 => bytes32) public stateRoots;
    mapping(uint64 => Posting) internal postings;

    QueueEntry[] internal queue;
    /// Messages consumed by advanced L2 blocks (= index of the next one to consume).
    uint64 public consumed;

    mapping(bytes32 => bool) public claimed;

    mapping(bytes32 => uint64) public scheduledAt;
    uint256 public actionNonce;

    event MessageEnqueued(
        uint64 indexed index,
        uint8 indexed kind,
        address indexed from,
        address to,
        uint256 mint,
        uint256 value,
        uint64 gasLimit,
        uint64 enqueuedAt,
        bytes data,
        bytes32 rollingHash
    );
    event BlockAdvanced(
        uint64 indexed number,
        bytes32 indexed blockHash,
        bytes32 stateRoot,
        uint64 l1Anchor,
        uint64 firstMessage,
        uint64 messageCount
    );
    event WithdrawalClaimed(bytes32 indexed withdrawalHash, address indexed target, uint256 value, uint64 l2Block);
    event ActionScheduled(bytes32 indexed id, Action indexed action, bytes payload, uint256 nonce, uint64 executableAt);
    event ActionExecuted(bytes32 indexed id, Action indexed action, bytes payload);
    event ActionCancelled(bytes32 indexed id);
    event SequencerChanged(address indexed previous, address indexed sequencer);
    event OwnershipTransferred(address indexed previous, address indexed owner);
    event ParameterChanged(bytes32 indexed name, uint256 previous, uint256 value);

    error NotOwner(address caller);
    error NotSequencer(address caller, uint64 openToAllAt);
    error NotDirectCall(address caller);
    error WrongGasLimit(uint64 number, uint64 gasLimit, uint64 expected);
    error WrongL1Hash(uint64 number, bytes32 prevRandao, bytes32 parentBeaconBlockRoot, bytes32 expected);
    error WithdrawalsNotEmpty(uint64 number, bytes32 withdrawalsRoot);
    error BlobGasNotZero(uint64 number, uint64 blobGasUsed, uint64 excessBlobGas);
    error DelayOutOfRange(uint64 value, uint64 max);
    error TimelockTooShort(uint64 timelockDelay, uint64 required);
    error DepositsPaused();
    error MessageGasTooHigh(uint64 gasLimit, uint64 max);
    error MessageDataTooLarge(uint256 size, uint256 max);
    error EmptyBatch();
    error WrongParent(uint64 number, bytes32 parentHash, bytes32 head);
    error WrongNumber(uint64 number, uint64 expected);
    error FutureBlock(uint64 timestamp, uint256 now);
    error BadL1Anchor(uint64 l1Anchor, uint64 min, uint256 current);
    error MissingMessages(uint256 needed, uint256 given);
    error UnusedMessages(uint256 used, uint256 given);
    error MessageOutOfOrder(uint64 expected, uint64 given);
    error MessageMismatch(uint64 lastIndex);
    error AnchorBudgetExceeded(uint64 number, uint64 cost, uint64 budget);
    error OverdueMessage(uint64 index, uint64 deadline);
    error ExecuteFailed(uint64 number, bytes reason);
    error UnknownStateRoot(uint64 l2Block);
    error WithdrawalNotReady(uint64 l2Block, uint64 readyAt);
    error AlreadyClaimed(bytes32 withdrawalHash);
    error WithdrawalNotProven(bytes32 withdrawalHash);
    error WithdrawalCallFailed(bytes32 withdrawalHash, bytes reason);
    error NotScheduled(bytes32 id);
    error TimelockNotElapsed(bytes32 id, uint64 executableAt);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(
        address owner_,
        address sequencer_,
        bytes32 genesisStateRoot,
        bytes32 genesisHash,
        uint64 forcedInclusionWindow_,
        uint64 withdrawalDelay_,
        uint64 timelockDelay_,
        uint64 l2GasLimit_
    ) {
        _checkDelays(forcedInclusionWindow_, withdrawalDelay_, timelockDelay_);
        l2GasLimit = l2GasLimit_;
        owner = owner_;
        sequencer = sequencer_;
        headStateRoot = genesisStateRoot;
        headHash = genesisHash;
        stateRoots[0] = genesisStateRoot;
        postings[0] = Posting(uint64(block.timestamp), uint64(block.timestamp));
        forcedInclusionWindow = forcedInclusionWindow_;
        withdrawalDelay = withdrawalDelay_;
        timelockDelay = timelockDelay_;
        lastAdvanceAt = uint64(block.timestamp);
    }

    // ---------------------------------------------------------------- L1 → L2 messages

    /// Deposits `msg.value` to `to` on L2 (called with `data` and `gasLimit` gas from the
    /// sender's alias).
    function deposit(address to, uint64 gasLimit, bytes calldata data) external payable returns (uint64) {
        if (depositsPaused) revert DepositsPaused();
        return _enqueue(Rollup.KIND_CALL, msg.sender, to, msg.value, msg.value, gasLimit, data);
    }

    /// Any L1→L2 call, including a forced transaction: the sender's alias calls `to` with
    /// `value` wei (which may come from earlier mints) after `msg.value` is minted to it.
    /// Never paused unless it brings ETH in.
    function sendMessage(address to, uint256 value, uint64 gasLimit, bytes calldata data)
        external
        payable
        returns (uint64)
    {
        if (msg.value > 0 && depositsPaused) revert DepositsPaused();
        return _enqueue(Rollup.KIND_CALL, msg.sender, to, msg.value, value, gasLimit, data);
    }

    function _enqueue(
        uint8 kind,
        address from,
        address to,
        uint256 mint,
        uint256 value,
        uint64 gasLimit,
        bytes memory data
    ) private returns (uint64 index) {
        if (gasLimit > Rollup.MAX_MESSAGE_GAS) revert MessageGasTooHigh(gasLimit, Rollup.MAX_MESSAGE_GAS);
        if (data.length > Rollup.MAX_MESSAGE_DATA) revert MessageDataTooLarge(data.length, Rollup.MAX_MESSAGE_DATA);
        index = uint64(queue.length);
        L1Message memory m = L1Message(kind, from, to, mint, value, gasLimit, index, uint64(block.timestamp), data);
        bytes32 previous = index == 0 ? bytes32(0) : queue[index - 1].rollingHash;
        bytes32 rolling = Rollup.roll(previous, Rollup.messageHash(m));
        queue.push(QueueEntry(rolling, m.enqueuedAt, Rollup.messageCost(gasLimit, data.length)));
        emit MessageEnqueued(index, kind, from, to, mint, value, gasLimit, m.enqueuedAt, data, rolling);
    }

    /// Messages enqueued so far.
    function queueLength() external view returns (uint64) {
        return uint64(queue.length);
    }

    /// Rolling hash after message `index`, its enqueue time and cost.
    function queueEntry(uint64 index) external view returns (QueueEntry memory) {
        return queue[index];
    }

    // ---------------------------------------------------------------- advancing the L2

    /// When the state root of L2 block `l2Block` was posted (0: never).
    function stateRootPostedAt(uint64 l2Block) external view returns (uint64) {
        return postings[l2Block].postedAt;
    }

    /// When withdrawals proven against L2 block `l2Block` become claimable (0: never posted).
    function withdrawableAt(uint64 l2Block) external view returns (uint64) {
        return postings[l2Block].withdrawableAt;
    }

    /// Appends L2 blocks, each verified by EXECUTE from the current head, consuming `messages`
    /// (the next queued message bodies, in order, split over the blocks by `messageCount`).
    /// Only the sequencer may advance, unless it has been silent for `forcedInclusionWindow`.
    /// Only a transaction sent straight to this contract by an account without code may advance:
    /// every advance L1 accepts is then one a follower sees in L1 transactions
    /// (docs/protocol.md §8.6).
    function advance(BlockCommitment[] calldata blocks, L1Message[] calldata messages) external {
        Cursor memory c = _begin(blocks.length);
        for (uint256 i = 0; i < blocks.length; i++) {
            // Memory used for one block (its messages, anchor and EXECUTE input) is released
            // before the next, so an advance's memory cost stays linear in its blocks.
            uint256 free;
            assembly ("memory-safe") {
                free := mload(0x40)
            }
            BlockCommitment calldata b = blocks[i];
            (L1Message[] memory applied, uint64 cost, uint64 first) = _take(c, messages, b.messageCount);
            TraceHeader.Header memory h = TraceHeader.read(b.trace);
            bytes memory anchor = _checkBlock(c, h, b.l1Anchor, applied, cost);
            _execute(h, h.gasUsed + Rollup.anchorGas(cost), anchor, b.trace);
            _setHead(h, b.l1Anchor);
            emit BlockAdvanced(h.number, h.hash, h.stateRoot, b.l1Anchor, first, uint64(applied.length));
            assembly ("memory-safe") {
                mstore(0x40, free)
            }
        }
        _finish(c, messages.length);
    }

    /// Appends a **run** of L2 blocks verified by one EXECUTE call (docs/protocol.md §8.4): the
    /// same rules as `advance` for each block, with the headers read from the run's trace
    /// (version 0x01, or 0x02 with the witness in blobs; one block per entry of `blocks`, nothing
    /// after them); EXECUTE goes from the
    /// head's state root to the last block's, with the sum of the blocks' EXECUTE gas and one
    /// anchor per block (`abi.encode(bytes[])`). The head, the state root and its posting are
    /// stored once, for the last block: withdrawals from a block inside the run are proven
    /// against the run's last block (its state holds every earlier withdrawal).
    function advanceRun(RunBlock[] calldata blocks, L1Message[] calldata messages, bytes calldata trace) external {
        Cursor memory c = _begin(blocks.length);
        bytes[] memory anchors = new bytes[](blocks.length);
        (c.offset, c.end) = TraceHeader.runBlocks(trace);
        TraceHeader.Header memory h;
        for (uint256 i = 0; i < blocks.length; i++) {
            (h, anchors[i]) = _runBlock(c, blocks[i], messages, trace);
        }
        if (c.offset != c.end) revert TraceHeader.MalformedTrace(c.offset);
        _execute(h, c.executeGas, abi.encode(anchors), trace);
        _setHead(h, c.lastL1Anchor);
        _finish(c, messages.length);
    }

    /// One block of a run: its messages, its header from the trace, its rules; its EXECUTE gas
    /// is added to the run's.
    function _runBlock(Cursor memory c, RunBlock calldata b, L1Message[] calldata messages, bytes calldata trace)
        private
        returns (TraceHeader.Header memory h, bytes memory anchor)
    {
        (L1Message[] memory applied, uint64 cost, uint64 first) = _take(c, messages, b.messageCount);
        (h, c.offset) = TraceHeader.readAt(trace, c.offset, c.end);
        anchor = _checkBlock(c, h, b.l1Anchor, applied, cost);
        c.executeGas += h.gasUsed + Rollup.anchorGas(cost);
        emit BlockAdvanced(h.number, h.hash, h.stateRoot, b.l1Anchor, first, uint64(applied.length));
    }

    /// Who may advance, and where the queue stands.
    function _begin(uint256 blocks) private view returns (Cursor memory c) {
        if (msg.sender != tx.origin || msg.sender.code.length != 0) revert NotDirectCall(msg.sender);
        uint64 openAt = lastAdvanceAt + forcedInclusionWindow;
        if (msg.sender != sequencer && block.timestamp <= openAt) revert NotSequencer(msg.sender, openAt + 1);
        if (blocks == 0) revert EmptyBatch();
        c.next = consumed;
        c.rolling = c.next == 0 ? bytes32(0) : queue[c.next - 1].rollingHash;
        c.parentHash = headHash;
        c.parentNumber = headNumber;
        c.lastL1Anchor = lastL1Anchor;
    }

    /// The next `count` messages of the call, checked in queue order and folded into the
    /// rolling hash, with their cost and the first one's index.
    function _take(Cursor memory c, L1Message[] calldata messages, uint32 count)
        private
        pure
        returns (L1Message[] memory applied, uint64 cost, uint64 first)
    {
        if (c.taken + count > messages.length) revert MissingMessages(c.taken + count, messages.length);
        applied = new L1Message[](count);
        first = c.next;
        for (uint256 j = 0; j < count; j++) {
            L1Message memory m = messages[c.taken + j];
            if (m.index != c.next) revert MessageOutOfOrder(c.next, m.index);
            c.rolling = Rollup.roll(c.rolling, Rollup.messageHash(m));
            cost += Rollup.messageCost(m.gasLimit, m.data.length);
            applied[j] = m;
            c.next++;
        }
        c.taken += count;
    }

    /// The rules of one block on its parent (`c`): its L1 anchor, its header, its message budget.
    /// Returns its anchor (the calldata of the L2 anchor system call) and makes it the parent.
    function _checkBlock(
        Cursor memory c,
        TraceHeader.Header memory h,
        uint64 l1Anchor,
        L1Message[] memory applied,
        uint64 cost
    ) private view returns (bytes memory) {
        if (l1Anchor < c.lastL1Anchor || l1Anchor >= block.number || block.number - l1Anchor > 256) {
            revert BadL1Anchor(l1Anchor, c.lastL1Anchor, block.number);
        }
        bytes32 l1Hash = blockhash(l1Anchor);
        _checkHeader(h, l1Hash, c.parentHash, c.parentNumber);
        if (cost > Rollup.ANCHOR_GAS_BUDGET) revert AnchorBudgetExceeded(h.number, cost, Rollup.ANCHOR_GAS_BUDGET);
        c.parentHash = h.hash;
        c.parentNumber = h.number;
        c.lastL1Anchor = l1Anchor;
        c.lastCost = cost;
        return abi.encodeCall(L1MessageInbox.anchor, (l1Anchor, l1Hash, applied));
    }

    /// The header rules of an L2 block that the rollup fixes (docs/protocol.md §8.4); EXECUTE
    /// checks the rest (those of an Ethereum block).
    function _checkHeader(TraceHeader.Header memory h, bytes32 l1Hash, bytes32 parentHash, uint64 parentNumber)
        private
        view
    {
        if (h.parentHash != parentHash) revert WrongParent(h.number, h.parentHash, parentHash);
        if (h.number != parentNumber + 1) revert WrongNumber(h.number, parentNumber + 1);
        if (h.timestamp > block.timestamp) revert FutureBlock(h.timestamp, block.timestamp);
        if (h.gasLimit != l2GasLimit) revert WrongGasLimit(h.number, h.gasLimit, l2GasLimit);
        if (h.mixHash != l1Hash || h.parentBeaconBlockRoot != l1Hash) {
            revert WrongL1Hash(h.number, h.mixHash, h.parentBeaconBlockRoot, l1Hash);
        }
        // EIP-4895 withdrawals credit ETH out of nothing: an L2 has none.
        if (h.withdrawalsRoot != Rollup.EMPTY_ROOT) revert WithdrawalsNotEmpty(h.number, h.withdrawalsRoot);
        if (h.blobGasUsed != 0 || h.excessBlobGas != 0) {
            revert BlobGasNotZero(h.number, h.blobGasUsed, h.excessBlobGas);
        }
    }

    /// EXECUTE from the head's state root to `h`'s, with `executeGas` (the blocks' gas and their
    /// anchor system calls', which run with exactly the difference as their gas limits).
    function _execute(TraceHeader.Header memory h, uint64 executeGas, bytes memory anchor, bytes calldata trace)
        private
    {
        (bool ok, bytes memory out) =
            EXECUTE.call(abi.encode(headStateRoot, h.stateRoot, executeGas, anchor, trace));
        if (!ok || out.length != 32 || uint256(bytes32(out)) != 1) revert ExecuteFailed(h.number, out);
    }

    /// Makes `h` the head and stores its state root and posting.
    function _setHead(TraceHeader.Header memory h, uint64 l1Anchor) private {
        headStateRoot = h.stateRoot;
        headHash = h.hash;
        headNumber = h.number;
        lastL1Anchor = l1Anchor;
        stateRoots[h.number] = h.stateRoot;
        postings[h.number] = Posting(uint64(block.timestamp), uint64(block.timestamp) + withdrawalDelay);
    }

    /// Every message of the call used, the rolling hash the queue's, nothing overdue left
    /// behind.
    function _finish(Cursor memory c, uint256 given) private {
        if (c.taken != given) revert UnusedMessages(c.taken, given);
        uint64 next = c.next;
        if (next != consumed) {
            if (next > queue.length || queue[next - 1].rollingHash != c.rolling) revert MessageMismatch(next - 1);
            consumed = next;
        }
        // Forced inclusion: nothing older than the window may be left behind, unless the last
        // block had no room left for it.
        if (next < queue.length) {
            QueueEntry storage e = queue[next];
            uint64 deadline = e.enqueuedAt + forcedInclusionWindow;
            if (block.timestamp >= deadline && c.lastCost + e.cost <= Rollup.ANCHOR_GAS_BUDGET) {
                revert OverdueMessage(next, deadline);
            }
        }
        lastAdvanceAt = uint64(block.timestamp);
    }

    // ---------------------------------------------------------------- L2 → L1 withdrawals

    /// Pays withdrawal `w` once, `withdrawalDelay` after the L2 state root of `l2Block` was
    /// posted, given proofs (as `eth_getProof` returns them for `L2ToL1MessagePasser` at that
    /// block) that `sentMessages[hash(w)]` is set.
    function claimWithdrawal(
        Withdrawal calldata w,
        uint64 l2Block,
        bytes[] calldata accountProof,
        bytes[] calldata storageProof
    ) external {
        bytes32 root = stateRoots[l2Block];
        if (root == bytes32(0)) revert UnknownStateRoot(l2Block);
        uint64 readyAt = postings[l2Block].withdrawableAt;
        if (block.timestamp < readyAt) revert WithdrawalNotReady(l2Block, readyAt);
        bytes32 hash = Rollup.withdrawalHash(w);
        if (claimed[hash]) revert AlreadyClaimed(hash);
        _proveWithdrawal(hash, root, accountProof, storageProof);
        claimed[hash] = true;
        (bool ok, bytes memory reason) = w.target.call{value: w.value}(w.data);
        if (!ok) revert WithdrawalCallFailed(hash, reason);
        emit WithdrawalClaimed(hash, w.target, w.value, l2Block);
    }

    /// Reverts unless the proofs show `sentMessages[hash] == 1` in the passer's storage under `root`.
    function _proveWithdrawal(bytes32 hash, bytes32 root, bytes[] calldata accountProof, bytes[] calldata storageProof)
        private
        pure
    {
        (bool exists, bytes memory account) =
            MerkleTrie.getSecure(abi.encodePacked(Rollup.L2_TO_L1_MESSAGE_PASSER), accountProof, root);
        if (!exists) revert WithdrawalNotProven(hash);
        bytes32 slot = keccak256(abi.encode(hash, uint256(0)));
        bytes memory value;
        (exists, value) =
            MerkleTrie.getSecure(abi.encodePacked(slot), storageProof, MerkleTrie.accountStorageRoot(account));
        if (!exists || MerkleTrie.decodeUint(value) != 1) revert WithdrawalNotProven(hash);
    }

    // ---------------------------------------------------------------- governance

    /// Schedules an owner action, executable `timelockDelay` from now.
    function schedule(Action action, bytes calldata payload) external onlyOwner returns (bytes32 id) {
        uint256 nonce = actionNonce++;
        id = keccak256(abi.encode(action, payload, nonce));
        uint64 readyAt = uint64(block.timestamp) + timelockDelay;
        scheduledAt[id] = readyAt;
        emit ActionScheduled(id, action, payload, nonce, readyAt);
    }

    function cancel(bytes32 id) external onlyOwner {
        if (scheduledAt[id] == 0) revert NotScheduled(id);
        delete scheduledAt[id];
        emit ActionCancelled(id);
    }

    /// The governance bounds (docs/protocol.md §8.7): each delay has a ceiling, so no sum of a
    /// timestamp and a delay overflows; and the timelock is at least the withdrawal delay plus
    /// the forced-inclusion window, so a user who sees a change scheduled can force a withdrawal
    /// into the L2 and claim it on L1 before the change can take effect.
    function _checkDelays(uint64 window, uint64 withdrawalDelay_, uint64 timelock) private pure {
        if (window > Rollup.MAX_DELAY) revert DelayOutOfRange(window, Rollup.MAX_DELAY);
        if (withdrawalDelay_ > Rollup.MAX_DELAY) revert DelayOutOfRange(withdrawalDelay_, Rollup.MAX_DELAY);
        if (timelock > Rollup.MAX_TIMELOCK) revert DelayOutOfRange(timelock, Rollup.MAX_TIMELOCK);
        if (timelock < window + withdrawalDelay_) revert TimelockTooShort(timelock, window + withdrawalDelay_);
    }

    /// Carries out a scheduled action once its delay has passed (owner only).
    function execute(Action action, bytes calldata payload, uint256 nonce) external onlyOwner {
        bytes32 id = keccak256(abi.encode(action, payload, nonce));
        uint64 readyAt = scheduledAt[id];
        if (readyAt == 0) revert NotScheduled(id);
        if (block.timestamp < readyAt) revert TimelockNotElapsed(id, readyAt);
        delete scheduledAt[id];
        if (action == Action.SetSequencer) {
            address next = abi.decode(payload, (address));
            emit SequencerChanged(sequencer, next);
            sequencer = next;
        } else if (action == Action.SetForcedInclusionWindow) {
            uint64 v = abi.decode(payload, (uint64));
            _checkDelays(v, withdrawalDelay, timelockDelay);
            emit ParameterChanged("forcedInclusionWindow", forcedInclusionWindow, v);
            forcedInclusionWindow = v;
        } else if (action == Action.SetWithdrawalDelay) {
            uint64 v = abi.decode(payload, (uint64));
            _checkDelays(forcedInclusionWindow, v, timelockDelay);
            emit ParameterChanged("withdrawalDelay", withdrawalDelay, v);
            withdrawalDelay = v;
        } else if (action == Action.SetDepositsPaused) {
            bool v = abi.decode(payload, (bool));
            emit ParameterChanged("depositsPaused", depositsPaused ? 1 : 0, v ? 1 : 0);
            depositsPaused = v;
        } else if (action == Action.SetTimelockDelay) {
            uint64 v = abi.decode(payload, (uint64));
            _checkDelays(forcedInclusionWindow, withdrawalDelay, v);
            emit ParameterChanged("timelockDelay", timelockDelay, v);
            timelockDelay = v;
        } else if (action == Action.TransferOwnership) {
            address next = abi.decode(payload, (address));
            emit OwnershipTransferred(owner, next);
            owner = next;
        } else {
            (bytes32 key, uint256 value) = abi.decode(payload, (bytes32, uint256));
            bytes memory data = abi.encodeWithSignature("setParameter(bytes32,uint256)", key, value);
            _enqueue(Rollup.KIND_GOVERNANCE, address(this), Rollup.L2_GOVERNANCE, 0, 0, 100_000, data);
        }
        emit ActionExecuted(id, action, payload);
    }
}
