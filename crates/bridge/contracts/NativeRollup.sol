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

    struct QueueEntry {
        bytes32 rollingHash;
        uint64 enqueuedAt;
        uint64 gasLimit;
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
    mapping(uint64 => uint64) public stateRootPostedAt;

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
        uint64 timelockDelay_
    ) {
        owner = owner_;
        sequencer = sequencer_;
        headStateRoot = genesisStateRoot;
        headHash = genesisHash;
        stateRoots[0] = genesisStateRoot;
        stateRootPostedAt[0] = uint64(block.timestamp);
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
        queue.push(QueueEntry(rolling, m.enqueuedAt, gasLimit));
        emit MessageEnqueued(index, kind, from, to, mint, value, gasLimit, m.enqueuedAt, data, rolling);
    }

    /// Messages enqueued so far.
    function queueLength() external view returns (uint64) {
        return uint64(queue.length);
    }

    /// Rolling hash after message `index`, its enqueue time and gas limit.
    function queueEntry(uint64 index) external view returns (QueueEntry memory) {
        return queue[index];
    }

    // ---------------------------------------------------------------- advancing the L2

    /// Appends L2 blocks, each verified by EXECUTE from the current head, consuming `messages`
    /// (the next queued message bodies, in order, split over the blocks by `messageCount`).
    /// Only the sequencer may advance, unless it has been silent for `forcedInclusionWindow`.
    function advance(BlockCommitment[] calldata blocks, L1Message[] calldata messages) external {
        uint64 openAt = lastAdvanceAt + forcedInclusionWindow;
        if (msg.sender != sequencer && block.timestamp <= openAt) revert NotSequencer(msg.sender, openAt + 1);
        if (blocks.length == 0) revert EmptyBatch();
        uint64 next = consumed;
        bytes32 rolling = next == 0 ? bytes32(0) : queue[next - 1].rollingHash;
        uint256 cursor;
        uint64 lastCost;
        for (uint256 i = 0; i < blocks.length; i++) {
            BlockCommitment calldata b = blocks[i];
            if (cursor + b.messageCount > messages.length) {
                revert MissingMessages(cursor + b.messageCount, messages.length);
            }
            L1Message[] memory applied = new L1Message[](b.messageCount);
            uint64 first = next;
            uint64 cost;
            for (uint256 j = 0; j < b.messageCount; j++) {
                L1Message memory m = messages[cursor + j];
                if (m.index != next) revert MessageOutOfOrder(next, m.index);
                rolling = Rollup.roll(rolling, Rollup.messageHash(m));
                cost += Rollup.messageCost(m.gasLimit);
                applied[j] = m;
                next++;
            }
            cursor += b.messageCount;
            _advanceOne(b, applied, cost, first);
            lastCost = cost;
        }
        if (cursor != messages.length) revert UnusedMessages(cursor, messages.length);
        if (next != consumed) {
            if (next > queue.length || queue[next - 1].rollingHash != rolling) revert MessageMismatch(next - 1);
            consumed = next;
        }
        // Forced inclusion: nothing older than the window may be left behind, unless the last
        // block had no room left for it.
        if (next < queue.length) {
            QueueEntry storage e = queue[next];
            uint64 deadline = e.enqueuedAt + forcedInclusionWindow;
            if (
                block.timestamp >= deadline
                    && lastCost + Rollup.messageCost(e.gasLimit) <= Rollup.ANCHOR_GAS_BUDGET
            ) revert OverdueMessage(next, deadline);
        }
        lastAdvanceAt = uint64(block.timestamp);
    }

    function _advanceOne(BlockCommitment calldata b, L1Message[] memory applied, uint64 cost, uint64 first) private {
        TraceHeader.Header memory h = TraceHeader.read(b.trace);
        if (h.parentHash != headHash) revert WrongParent(h.number, h.parentHash, headHash);
        if (h.number != headNumber + 1) revert WrongNumber(h.number, headNumber + 1);
        if (h.timestamp > block.timestamp) revert FutureBlock(h.timestamp, block.timestamp);
        if (b.l1Anchor < lastL1Anchor || b.l1Anchor >= block.number || block.number - b.l1Anchor > 256) {
            revert BadL1Anchor(b.l1Anchor, lastL1Anchor, block.number);
        }
        if (cost > Rollup.ANCHOR_GAS_BUDGET) revert AnchorBudgetExceeded(h.number, cost, Rollup.ANCHOR_GAS_BUDGET);
        bytes memory anchor =
            abi.encodeCall(L1MessageInbox.anchor, (b.l1Anchor, blockhash(b.l1Anchor), applied));
        (bool ok, bytes memory out) =
            EXECUTE.call(abi.encode(headStateRoot, h.stateRoot, h.gasUsed, anchor, b.trace));
        if (!ok || out.length != 32 || uint256(bytes32(out)) != 1) revert ExecuteFailed(h.number, out);
        headStateRoot = h.stateRoot;
        headHash = h.hash;
        headNumber = h.number;
        lastL1Anchor = b.l1Anchor;
        stateRoots[h.number] = h.stateRoot;
        stateRootPostedAt[h.number] = uint64(block.timestamp);
        emit BlockAdvanced(h.number, h.hash, h.stateRoot, b.l1Anchor, first, uint64(applied.length));
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
        uint64 readyAt = stateRootPostedAt[l2Block] + withdrawalDelay;
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
            emit ParameterChanged("forcedInclusionWindow", forcedInclusionWindow, v);
            forcedInclusionWindow = v;
        } else if (action == Action.SetWithdrawalDelay) {
            uint64 v = abi.decode(payload, (uint64));
            emit ParameterChanged("withdrawalDelay", withdrawalDelay, v);
            withdrawalDelay = v;
        } else if (action == Action.SetDepositsPaused) {
            bool v = abi.decode(payload, (bool));
            emit ParameterChanged("depositsPaused", depositsPaused ? 1 : 0, v ? 1 : 0);
            depositsPaused = v;
        } else if (action == Action.SetTimelockDelay) {
            uint64 v = abi.decode(payload, (uint64));
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
