"""web3.py (pinned in scripts/tools/requirements.txt) drives `nrd l1 --block-time 0`.

    .tools/bin/python-web3 web3_smoke.py <rpc-url>

Prints a JSON summary on stdout and exits non-zero on any failed check. Every JSON-RPC request
and error answer is recorded by a provider wrapper: an error that web3.py swallowed (e.g. by
falling back from eth_maxPriorityFeePerGas to eth_feeHistory) still fails the run.
"""

import json
import secrets
import sys
import traceback

from eth_account import Account
import os
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.providers.rpc import HTTPProvider

EXPECTED_CHAIN_ID = int(os.environ.get("NRD_EXPECT_CHAIN_ID", "900"))

KEY1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ADDR1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
# Init code (12 bytes): codecopy(0, 12, 13); return(0, 13) -- deploys the 13-byte runtime after it.
# Runtime: x = calldataload(0); sstore(0, x); log1(0, 0, x); stop
#   60 00 35 | 80 | 60 00 55 | 60 00 60 00 a1 | 00
RUNTIME = "0x6000358060005560006000a100"
INIT = "0x600d600c600039600d6000f3" + RUNTIME[2:]
WORD = "0x" + "00" * 28 + "c0ffee02"

summary = {"client": None, "url": None, "checks": {}, "rpc": {"calls": {}, "errors": []}}
failed = False


def check(name, ok, detail=None):
    global failed
    entry = {"ok": bool(ok)}
    if detail is not None:
        entry["detail"] = detail
    summary["checks"][name] = entry
    if not ok:
        failed = True


def plain(value):
    """JSON-friendly copy of web3.py results (AttributeDict, HexBytes, ...)."""
    return json.loads(Web3.to_json(value)) if not isinstance(value, (int, str, float, type(None))) else value


class RecordingProvider(HTTPProvider):
    """HTTPProvider that records each method called and each JSON-RPC error answer."""

    def make_request(self, method, params):
        summary["rpc"]["calls"][method] = summary["rpc"]["calls"].get(method, 0) + 1
        response = super().make_request(method, params)
        if isinstance(response, dict) and "error" in response:
            summary["rpc"]["errors"].append(
                {"request": {"method": method, "params": plain(list(params))}, "error": response["error"]}
            )
        return response


def main(url):
    w3 = Web3(RecordingProvider(url, request_kwargs={"timeout": 30}))
    acct = Account.from_key(KEY1)
    check("account1 address", acct.address == ADDR1, acct.address)
    # Sign locally and send with eth_sendRawTransaction; web3.py fills nonce, chain id,
    # gas (eth_estimateGas) and EIP-1559 fees (eth_maxPriorityFeePerGas + latest base fee).
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(acct), layer=0)

    chain_id = w3.eth.chain_id
    check("chainId", chain_id == EXPECTED_CHAIN_ID, chain_id)

    start = w3.eth.block_number
    check("blockNumber", isinstance(start, int) and start >= 0, start)

    balance1 = w3.eth.get_balance(acct.address)
    check("getBalance account1 > 1 ETH", balance1 > Web3.to_wei(1, "ether"), str(balance1))

    to = Account.from_key("0x" + secrets.token_hex(32)).address
    value = Web3.to_wei(0.5, "ether")

    # Explicit eth_estimateGas / eth_maxPriorityFeePerGas / eth_feeHistory, sanity-checked.
    transfer_gas = w3.eth.estimate_gas({"from": acct.address, "to": to, "value": value})
    check("estimateGas plain transfer == 21000", transfer_gas == 21000, transfer_gas)

    tip = w3.eth.max_priority_fee
    check("eth_maxPriorityFeePerGas >= 0", isinstance(tip, int) and tip >= 0, tip)

    latest = w3.eth.get_block("latest")
    check("latest block has baseFeePerGas", isinstance(latest.get("baseFeePerGas"), int), latest.get("baseFeePerGas"))

    # At the block just read, not "latest": a block sealed in between would shift the window.
    history = w3.eth.fee_history(4, latest["number"], [10, 50, 90])
    n = min(latest["number"] + 1, 4)
    check(
        "feeHistory shape",
        len(history["baseFeePerGas"]) == n + 1
        and len(history["gasUsedRatio"]) == n
        and len(history.get("reward", [])) == n
        and all(len(r) == 3 and r[0] <= r[1] <= r[2] for r in history["reward"])
        and history["oldestBlock"] == latest["number"] + 1 - n,
        plain(history),
    )
    check(
        "feeHistory last base fee == latest block base fee",
        history["baseFeePerGas"][n - 1] == latest["baseFeePerGas"],
        {"history": history["baseFeePerGas"], "latest": latest["baseFeePerGas"]},
    )
    check("feeHistory gasUsedRatio in [0,1]", all(0 <= r <= 1 for r in history["gasUsedRatio"]), history["gasUsedRatio"])

    # 0.5 ETH transfer, EIP-1559, gas and fees filled by web3.py, signed locally.
    tx_hash = w3.eth.send_transaction({"from": acct.address, "to": to, "value": value})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.1)
    check("transfer receipt status", receipt["status"] == 1, receipt["status"])
    check("transfer receipt type", receipt["type"] == 2, receipt["type"])
    check("transfer gasUsed == 21000", receipt["gasUsed"] == 21000, receipt["gasUsed"])
    tx = w3.eth.get_transaction(tx_hash)
    check(
        "transfer tx fields",
        tx["type"] == 2
        and tx["from"] == acct.address
        and tx["to"] == to
        and tx["value"] == value
        and tx["maxFeePerGas"] >= tx["maxPriorityFeePerGas"] >= 0
        and tx["chainId"] == EXPECTED_CHAIN_ID,
        plain(tx),
    )
    recipient = w3.eth.get_balance(to)
    check("recipient balance == 0.5 ETH", recipient == value, str(recipient))
    after1 = w3.eth.get_balance(acct.address)
    cost = value + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    check("sender paid value + gas", balance1 - after1 == cost, {"paid": str(balance1 - after1), "expected": str(cost)})

    # Deploy the log-emitting contract from raw init code.
    deploy_hash = w3.eth.send_transaction({"from": acct.address, "data": INIT})
    deploy = w3.eth.wait_for_transaction_receipt(deploy_hash, timeout=30, poll_latency=0.1)
    check("deploy receipt status", deploy["status"] == 1, deploy["status"])
    contract = deploy["contractAddress"]
    check("deploy receipt contractAddress", isinstance(contract, str) and Web3.is_checksum_address(contract), contract)
    code = w3.eth.get_code(contract)
    check("deployed runtime code", code.to_0x_hex() == RUNTIME, code.to_0x_hex())

    # Call it with a transaction; it stores and logs the word.
    call_gas = w3.eth.estimate_gas({"from": acct.address, "to": contract, "data": WORD})
    check("estimateGas call > 21000", call_gas > 21000, call_gas)
    call_hash = w3.eth.send_transaction({"from": acct.address, "to": contract, "data": WORD})
    call = w3.eth.wait_for_transaction_receipt(call_hash, timeout=30, poll_latency=0.1)
    check("call receipt status", call["status"] == 1, call["status"])
    check("call gasUsed <= estimate", call["gasUsed"] <= call_gas, {"used": call["gasUsed"], "estimate": call_gas})
    logs = call["logs"]
    check(
        "call receipt log",
        len(logs) == 1
        and logs[0]["address"] == contract
        and [t.to_0x_hex() for t in logs[0]["topics"]] == [WORD]
        and logs[0]["data"] == b"",
        plain(logs),
    )
    slot0 = w3.eth.get_storage_at(contract, 0)
    check("storage slot 0 == word", slot0.to_0x_hex() == WORD, slot0.to_0x_hex())

    got = w3.eth.get_logs({"address": contract, "fromBlock": deploy["blockNumber"], "toBlock": "latest"})
    check(
        "getLogs by address",
        len(got) == 1
        and [t.to_0x_hex() for t in got[0]["topics"]] == [WORD]
        and got[0]["transactionHash"] == call_hash
        and got[0]["blockNumber"] == call["blockNumber"]
        and got[0]["blockHash"] == call["blockHash"]
        and got[0]["logIndex"] == logs[0]["logIndex"],
        plain(got),
    )
    by_topic = w3.eth.get_logs({"fromBlock": deploy["blockNumber"], "toBlock": "latest", "topics": [WORD]})
    check("getLogs by topic", len(by_topic) == 1 and by_topic[0]["address"] == contract, plain(by_topic))
    none = w3.eth.get_logs({"address": to, "fromBlock": 0, "toBlock": "latest"})
    check("getLogs other address is empty", len(none) == 0, plain(none))

    end = w3.eth.block_number
    if os.environ.get("NRD_INTERVAL_BLOCKS") == "1":
        # Interval-sealed chain (the rollup L2): at least the three transactions' blocks.
        check("chain advanced", end >= start + 1, {"start": start, "end": end})
    else:
        check("one block per transaction", end == start + 3, {"start": start, "end": end})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: web3_smoke.py <rpc-url>", file=sys.stderr)
        sys.exit(2)
    import web3

    summary["client"] = f"web3.py {web3.__version__}"
    summary["url"] = sys.argv[1]
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001 - every failure goes into the summary
        failed = True
        summary["exception"] = "".join(traceback.format_exception(e))
    check("no JSON-RPC error answers", not summary["rpc"]["errors"], summary["rpc"]["errors"])
    summary["ok"] = not failed
    print(json.dumps(summary, indent=2, default=str))
    sys.exit(1 if failed else 0)
