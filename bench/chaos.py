"""Chaos run (issue 13): kill and break things at bad moments, then count what was lost.

    make chaos                         # or: python bench/chaos.py
    CHAOS_KILLS=40 CHAOS_SEED=7 python bench/chaos.py

1. **Node**: a durable ``telcochain node`` (dumps every 0.3 s, so kills land mid-dump) with the
   consortium deployed; value transfers through the SDK Pipeline (each to a fresh address, so
   the chain says how often each was applied) plus key rotations by the operator, each with its
   own ref (each one a notification). ``CHAOS_KILLS`` SIGKILLs of the node at random moments and
   ``CHAOS_STOPS`` graceful stops (every other kill aimed at a dump being written), restarting
   each time; after each restart every operation the
   SDK had confirmed must be in the same block.
2. **Listeners** follow the operator's notifications meanwhile and are SIGKILLed at random
   moments too (``CHAOS_LISTENER_KILLS`` each): an exactly-once consumer (sqlite, transactional
   ack) and an at-least-once one (file checkpoint, ids appended to a file).
3. **Senders** through a proxy that drops (before and after the node saw the request), delays,
   answers 503 or garbage: ``TxSender.transact`` one by one, then a Pipeline.

Prints the figures and writes ``bench/results/chaos.json``: confirmed operations lost, applied
twice, notifications missed (and repeated), chains lost. Targets: all 0 (repeats are allowed
for the at-least-once consumer only).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "pysdk"))

from eth_account import Account  # noqa: E402
from telcochain import Client  # noqa: E402
from telcochain.errors import TelcochainError, TransactionError, TransactionUnknown  # noqa: E402
from telcochain.node import DEV_MNEMONIC  # noqa: E402
from telcochain.notifications import NotificationStream, SqliteCheckpoint  # noqa: E402
from telcochain.rpc import Rpc  # noqa: E402
from telcochain.throughput import Operation, OpStatus, Pipeline  # noqa: E402
from telcochain.tx import TxSender, hexint, probe_chain  # noqa: E402

from tests.conftest import ape_deploy  # noqa: E402
from tests.faults.chaosproxy import ChaosProxy  # noqa: E402
from tests.faults.harness import (  # noqa: E402
    Figures,
    Load,
    count_applied,
    crash_cycle,
    durable_node,
    missing_confirmed,
)

Account.enable_unaudited_hdwallet_features()
ACCOUNTS = [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(10)]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# -- listeners (child processes) ----------------------------------------------------------------


def run_listener(kind: str, url: str, deployment: str, store: str) -> None:
    """A consumer process: follows the operator's notifications until killed."""
    while True:
        try:
            client = Client.connect(url, ACCOUNTS[0], deployment=deployment, timeout=2.0)
            if kind == "exactly-once":
                conn = sqlite3.connect(store)
                conn.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT, name TEXT, ref TEXT)")
                conn.commit()
                checkpoint = SqliteCheckpoint(conn)
                stream = NotificationStream(client, checkpoint)

                def handle(batch: list[Any], state: Any, conn: sqlite3.Connection = conn, cp: Any = checkpoint) -> None:
                    with conn:
                        for n in batch:
                            conn.execute(
                                "INSERT INTO seen VALUES (?, ?, ?)", (n.id, n.name, bytes(n.args.get("ref", b"")).hex())
                            )
                        cp.save(state)

                stream.consume(handle, poll_interval=0.1)
            else:
                stream = NotificationStream(client, store + ".checkpoint")
                with open(store, "a") as out:
                    for n in stream.follow(poll_interval=0.1):
                        out.write(f"{n.id} {n.name} {bytes(n.args.get('ref', b'')).hex()}\n")
                        out.flush()
        except TelcochainError:
            time.sleep(0.2)  # the node is restarting


class Listener:
    def __init__(self, kind: str, url: str, deployment: Path, store: Path) -> None:
        self.args = [sys.executable, __file__, "--listener", kind, url, str(deployment), str(store)]
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


def delivered(kind: str, store: Path) -> list[tuple[str, str, str]]:
    """(id, event name, ref) of every notification the listener stored, repeats included."""
    if kind == "exactly-once":
        conn = sqlite3.connect(store)
        rows = [(r[0], r[1], r[2]) for r in conn.execute("SELECT id, name, ref FROM seen")]
        conn.close()
        return rows
    if not store.exists():
        return []
    return [tuple(line.split()) for line in store.read_text().splitlines() if len(line.split()) == 3]  # type: ignore[misc]


# -- phase 1 and 2: node crashes, listener kills ------------------------------------------------


def node_phase(workdir: Path, rng: random.Random) -> dict[str, Any]:
    kills, stops = env_int("CHAOS_KILLS", 24), env_int("CHAOS_STOPS", 6)
    listener_kills = env_int("CHAOS_LISTENER_KILLS", 20)
    node = durable_node(workdir / "node", dump_interval=0.3)
    node.start()
    url = node.config.rpc_url
    print(f"==> durable node on {url}; deploying the consortium (ape) ...", flush=True)
    manifest = ape_deploy(url, workdir / "deployments")
    figures = Figures()
    load = Load(url, ACCOUNTS[4:7], probe_chain(Rpc(url))).start()

    rotations: dict[str, bool] = {}  # ref (hex of the bytes32) → the SDK confirmed it
    stop_rotating = threading.Event()

    def rotate() -> None:
        n = 0
        sender_client: Client | None = None
        while not stop_rotating.is_set():
            try:
                if sender_client is None:
                    sender_client = Client.connect(url, ACCOUNTS[0], deployment=manifest, timeout=2.0)
                ref = f"CHAOS-{n}"
                key = (n + 1).to_bytes(32, "big")
                result = sender_client.constitution.rotate_trust_key(key, ref=ref)
                rotations[ref.encode().ljust(32, b"\0").hex()] = result.executed
                n += 1
            except TelcochainError:
                sender_client = None
                time.sleep(0.2)
            time.sleep(0.02)

    rotator = threading.Thread(target=rotate, daemon=True)
    rotator.start()
    listeners = {
        kind: Listener(kind, url, manifest, workdir / f"listener-{kind}.{'db' if kind == 'exactly-once' else 'log'}")
        for kind in ("exactly-once", "at-least-once")
    }
    for listener in listeners.values():
        listener.start()

    events = ["kill"] * kills + ["stop"] * stops
    rng.shuffle(events)
    listener_events = {i: [] for i in range(len(events))}
    for kind in listeners:
        for _ in range(listener_kills):
            listener_events[rng.randrange(len(events))].append(kind)
    started = time.monotonic()
    for i, event in enumerate(events):
        for kind in listener_events[i]:
            time.sleep(rng.uniform(0, 0.3))
            listeners[kind].kill()
            listeners[kind].start()
        crash_cycle(node, load, figures, rng, graceful=event == "stop", mid_dump=i % 2 == 1)
        print(f"  {event:>4} #{i + 1}/{len(events)}: confirmed so far {len(load.confirmed())}, "
              f"lost {figures.confirmed_lost}, head {hexint(Rpc(url).call('eth_blockNumber'))}",
              flush=True)  # fmt: skip
    seconds = time.monotonic() - started
    stop_rotating.set()
    rotator.join()
    load.finish(timeout=120)
    rpc = Rpc(url)
    figures.confirmed_lost += missing_confirmed(rpc, load.confirmed())
    once, twice, never = count_applied(rpc, load.sinks)
    time.sleep(2.0)  # let the listeners catch up
    for listener in listeners.values():
        listener.stop()
    # every confirmed rotation's event on chain, and in each listener
    client = Client.connect(url, ACCOUNTS[0], deployment=manifest)
    on_chain = [
        bytes(n.args["ref"]).hex()
        for n in NotificationStream(client, from_block=0).poll()
        if n.name == "TrustKeyRefreshed" and bytes(n.args["ref"]).startswith(b"CHAOS-")
    ]
    confirmed_refs = {ref for ref, ok in rotations.items() if ok}
    rotations_lost = len(confirmed_refs - set(on_chain))
    listener_figures = {}
    for kind, listener in listeners.items():
        # missed: a confirmed rotation's TrustKeyRefreshed the listener never stored; repeated: an
        # event (by its id: block hash + log index) stored more than once
        rows = delivered(kind, Path(listener.args[-1]))
        refreshed = {ref for _, name, ref in rows if name == "TrustKeyRefreshed"}
        ids = [row[0] for row in rows]
        listener_figures[kind] = {
            "kills": listener.kills,
            "notifications": len(set(ids)),
            "notifications_missed": len(set(on_chain) - refreshed),
            "repeated": len(ids) - len(set(ids)),
        }
    node.stop()
    ops = len(load.outcomes)
    return {
        "seconds": round(seconds, 1),
        "kills": figures.kills,
        "kills_mid_dump": figures.kills_mid_dump,
        "graceful_stops": stops,
        "restarts": figures.restarts,
        "chain_lost": figures.chain_lost,
        "ops": ops,
        "ops_confirmed": sum(1 for o in load.outcomes if o.status is OpStatus.CONFIRMED),
        "confirmed_ops_lost": figures.confirmed_lost,
        "applied_twice": twice,
        "never_applied": never,
        "applied_once": once,
        "replayed_blocks": figures.replayed_blocks,
        "replayed_hash_mismatches": figures.hash_mismatches,
        "rotations_confirmed": len(confirmed_refs),
        "rotations_lost": rotations_lost,
        "listeners": listener_figures,
        "notes": figures.notes,
    }


# -- phase 3: senders through a faulty proxy ----------------------------------------------------


def sender_phase(url: str, seed: int) -> dict[str, Any]:
    direct = Rpc(url)
    results: dict[str, Any] = {}
    account = ACCOUNTS[8]
    sinks = [Account.create().address for _ in range(env_int("CHAOS_TXSENDER_OPS", 120))]
    reported: dict[int, str] = {}
    with ChaosProxy(url, rate=0.3, seed=seed) as proxy:
        sender = TxSender(Rpc(proxy.url, timeout=2.0), account, probe_chain(direct), attempts=8, backoff=0.05)
        unknown: dict[int, str] = {}
        for n, sink in enumerate(sinks):
            try:
                reported[n] = (
                    "confirmed"
                    if sender.transact(sink, "0x", gas=21_000, value=1, timeout=30).succeeded
                    else "reverted"
                )
            except TransactionUnknown as exc:
                unknown[n] = exc.tx_hash
            except (TransactionError, TelcochainError):
                reported[n] = "failed"
        proxy.enabled = False
        statuses = sender.resume()
        for n, tx_hash in unknown.items():
            status = statuses.get(tx_hash, sender.resolve(tx_hash))
            if status == "pending":
                sender.wait(tx_hash, timeout=30)
                status = sender.resolve(tx_hash)
            reported[n] = status
        faults = {k: v for k, v in proxy.counts.items() if k != "pass"}
    applied = [hexint(b) for b in direct.batch([("eth_getBalance", [s, "latest"]) for s in sinks])]
    results["txsender"] = {
        "ops": len(sinks),
        "faults_injected": faults,
        "applied_twice": sum(1 for v in applied if v > 1),
        "reported_wrong": sum(1 for n, v in enumerate(applied) if (reported[n] == "confirmed") != (v == 1)),
        "unknown_then_resolved": len(unknown),
        "confirmed_lost": sum(1 for n, v in enumerate(applied) if reported[n] == "confirmed" and v != 1),
    }
    sinks = [Account.create().address for _ in range(env_int("CHAOS_PIPELINE_OPS", 3000))]
    with ChaosProxy(url, rate=0.25, seed=seed + 1) as proxy:
        with Pipeline(Rpc(proxy.url, timeout=2.0), ACCOUNTS[5:8], probe_chain(direct), send_batch=50,
                      rebroadcast_after=1.0) as pipe:  # fmt: skip
            outcomes = pipe.submit(Operation(s, b"", 21_000, value=1) for s in sinks)
            pipe.drain(timeout=120)
            proxy.enabled = False
            if pipe.resume():
                pipe.drain(timeout=60)
        faults = {k: v for k, v in proxy.counts.items() if k != "pass"}
    applied = [hexint(b) for s0 in range(0, len(sinks), 500)
               for b in direct.batch([("eth_getBalance", [s, "latest"]) for s in sinks[s0 : s0 + 500]])]  # fmt: skip
    results["pipeline"] = {
        "ops": len(sinks),
        "faults_injected": faults,
        "applied_twice": sum(1 for v in applied if v > 1),
        "never_applied": sum(1 for v in applied if v == 0),
        "reported_wrong": sum(
            1 for o, v in zip(outcomes, applied, strict=True) if (o.status is OpStatus.CONFIRMED) != (v == 1)
        ),
        "send_retries": pipe.stats.send_retries,
        "outages": pipe.stats.outages,
    }
    return results


def main() -> int:
    seed = env_int("CHAOS_SEED", 2026)
    rng = random.Random(seed)
    workdir = Path(tempfile.mkdtemp(prefix="telcochain-chaos-"))
    t0 = time.monotonic()
    node = node_phase(workdir, rng)
    print("==> senders through a faulty proxy ...", flush=True)
    helper = durable_node(workdir / "senders")
    helper.start()
    try:
        senders = sender_phase(helper.config.rpc_url, seed)
    finally:
        helper.stop()
    totals = {
        "confirmed_ops_lost": node["confirmed_ops_lost"] + node["rotations_lost"]
        + senders["txsender"]["confirmed_lost"],
        "applied_twice": node["applied_twice"] + senders["txsender"]["applied_twice"]
        + senders["pipeline"]["applied_twice"],
        "notifications_missed": sum(v["notifications_missed"] for v in node["listeners"].values()),
        "chain_lost": node["chain_lost"],
        "never_applied": node["never_applied"] + senders["pipeline"]["never_applied"],
        "reported_wrong": senders["txsender"]["reported_wrong"] + senders["pipeline"]["reported_wrong"],
    }  # fmt: skip
    report = {
        "seed": seed,
        "seconds": round(time.monotonic() - t0, 1),
        "totals": totals,
        "node": node,
        "senders": senders,
    }
    out = Path(os.environ.get("CHAOS_RESULTS", ROOT / "bench" / "results" / "chaos.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(f"node: {node['kills']} SIGKILLs ({node['kills_mid_dump']} mid-dump), {node['graceful_stops']} graceful "
          f"stops, {node['ops']} transfers + {node['rotations_confirmed']} key rotations confirmed; "
          f"{node['replayed_blocks']} blocks replayed from the log "
          f"({node['replayed_hash_mismatches']} new hashes)")  # fmt: skip
    for kind, figures in node["listeners"].items():
        print(f"listener {kind}: {figures['kills']} SIGKILLs, missed {figures['notifications_missed']}, "
              f"repeated {figures['repeated']}")  # fmt: skip
    for name in ("txsender", "pipeline"):
        print(f"{name}: {senders[name]['ops']} ops through {sum(senders[name]['faults_injected'].values())} faults")
    print(" | ".join(f"{k} {v}" for k, v in totals.items()))
    print(f"written to {out}")
    bad = totals["confirmed_ops_lost"] or totals["applied_twice"] or totals["notifications_missed"]
    bad = bad or totals["chain_lost"] or totals["reported_wrong"] or node["listeners"]["exactly-once"]["repeated"]
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--listener":
        run_listener(*sys.argv[2:6])
    else:
        sys.exit(main())
