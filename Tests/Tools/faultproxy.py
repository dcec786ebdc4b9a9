#!/usr/bin/env python3
"""faultproxy: a TCP proxy that injects network faults, for tests and benchmarks.

It forwards raw bytes between a client and a server (TLS passes through untouched) and,
per connection, can cut the link with a TCP reset, stall it, or trickle it.

Usage:
  faultproxy.py --listen 127.0.0.1:0 --target HOST:PORT --port-file FILE
                [--stats-file FILE] [--seed N] [--verbose]
                [--cut-probability P] [--cut-after MIN-MAX] [--cut-direction up|down|any]
                [--stall-probability P] [--stall-seconds S] [--stall-after MIN-MAX]
                [--rate-bps BITS] [--reset-every SECONDS]

  --cut-*        with probability P a connection is reset (RST, SO_LINGER 0, both sides)
                 once a random number of bytes in [MIN, MAX] has been forwarded in the
                 chosen direction: up = client->server, down = server->client.
                 A connection that never carries that many bytes that way is not cut.
  --stall-*      with probability P forwarding stops in both directions for S seconds
                 once [MIN, MAX] bytes (both directions together) have been forwarded.
  --rate-bps     token bucket per connection per direction, in small chunks (~20 ms each).
  --reset-every  every SECONDS, reset every open connection (a mobile link dropping).

  The bound port is written to --port-file (via a temporary file and a rename) once the
  proxy listens. On SIGTERM or SIGINT it writes JSON stats to --stats-file and exits 0:
  {"connections", "cuts", "stalls", "resets", "bytes_up", "bytes_down", "connect_failures", "seed"}.
  Each connection's faults come from random.Random("<seed>/<n>") for the n-th accepted
  connection, so a run replays given --seed and the same order of connections.

Example:
  python3 Tests/Tools/faultproxy.py --listen 127.0.0.1:0 --target 127.0.0.1:8443 \\
      --port-file /tmp/p.port --stats-file /tmp/p.json --seed 7 \\
      --cut-probability 0.3 --cut-after 1000-50000 --rate-bps 64000
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import time

UP, DOWN = "up", "down"


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:8443)")
    return host.strip("[]") or "127.0.0.1", int(port)


def byte_range(text):
    low, _, high = text.partition("-")
    try:
        low_n, high_n = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN-MAX bytes (for example 1000-50000)")
    if low_n < 0 or high_n < low_n:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= MIN <= MAX")
    return low_n, high_n


def probability(text):
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a probability is between 0 and 1")
    return value


def write_atomically(path, text):
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def set_reset_on_close(writer):
    """SO_LINGER 0: closing sends RST instead of FIN and drops unsent data."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


def unsent_bytes(writer):
    """Bytes the kernel holds for this socket that the peer has not acknowledged (Linux), else 0."""
    sock = writer.get_extra_info("socket")
    try:
        import fcntl
        import termios

        buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
        return struct.unpack("i", buf)[0]
    except Exception:
        return 0


class TokenBucket:
    """Holds up to two chunks, so tokens earned while a sleep overshoots are not lost."""

    def __init__(self, bytes_per_second, chunk):
        self.rate = bytes_per_second
        self.capacity = 2 * chunk
        self.tokens = chunk
        self.last = time.monotonic()

    async def take(self, n):
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / self.rate)


class Stats:
    def __init__(self, seed):
        self.connections = self.cuts = self.stalls = self.resets = 0
        self.bytes_up = self.bytes_down = self.connect_failures = 0
        self.seed = seed

    def as_json(self):
        return json.dumps(
            {
                "connections": self.connections,
                "cuts": self.cuts,
                "stalls": self.stalls,
                "resets": self.resets,
                "bytes_up": self.bytes_up,
                "bytes_down": self.bytes_down,
                "connect_failures": self.connect_failures,
                "seed": self.seed,
            },
            sort_keys=True,
        )


class Connection:
    def __init__(self, proxy, number, client_reader, client_writer):
        self.proxy = proxy
        self.number = number
        self.options = options = proxy.options
        self.readers = {UP: client_reader}
        self.writers = {DOWN: client_writer}
        self.sent = {UP: 0, DOWN: 0}
        self.closed = False
        self.tasks = []
        # Every value is drawn in a fixed order whether or not it is used, so one fault's
        # settings do not shift another's draws.
        rng = random.Random(f"{proxy.seed}/{number}")
        cut = rng.random() < options.cut_probability
        cut_at = rng.randint(*options.cut_after)
        direction = rng.choice([UP, DOWN])
        stall = rng.random() < options.stall_probability
        stall_at = rng.randint(*options.stall_after)
        if options.cut_direction != "any":
            direction = options.cut_direction
        self.cut_direction = direction if cut else None
        self.cut_at = cut_at
        self.stall_at = stall_at if stall and options.stall_seconds > 0 else None
        self.stall_until = 0.0
        if options.rate_bps:
            bytes_per_second = options.rate_bps / 8
            self.chunk = max(1, min(16384, int(bytes_per_second / 50)))
            self.buckets = {d: TokenBucket(bytes_per_second, self.chunk) for d in (UP, DOWN)}
        else:
            self.chunk = 65536
            self.buckets = None

    def log(self, message):
        if self.options.verbose:
            print(f"faultproxy: connection {self.number}: {message}", file=sys.stderr, flush=True)

    async def run(self):
        stats = self.proxy.stats
        try:
            target_reader, target_writer = await asyncio.open_connection(*self.options.target)
        except OSError as error:
            stats.connect_failures += 1
            self.log(f"cannot reach the target: {error}")
            set_reset_on_close(self.writers[DOWN])
            self.writers[DOWN].transport.abort()
            return
        self.readers[DOWN] = target_reader
        self.writers[UP] = target_writer
        for writer in self.writers.values():
            # drain() then waits until every byte is handed to the kernel, so a cut lands where planned.
            writer.transport.set_write_buffer_limits(high=0)
        self.proxy.open.add(self)
        try:
            self.tasks = [asyncio.ensure_future(self.pump(d)) for d in (UP, DOWN)]
            await asyncio.gather(*self.tasks, return_exceptions=True)
        finally:
            self.proxy.open.discard(self)
            if not self.closed:
                self.closed = True
                for writer in self.writers.values():
                    writer.transport.close()

    async def pump(self, direction):
        reader, writer = self.readers[direction], self.writers[direction]
        try:
            while not self.closed:
                data = await reader.read(self.chunk)
                if not data:
                    if not self.closed and writer.can_write_eof():
                        writer.write_eof()
                    return
                await self.forward(direction, data, writer)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, RuntimeError):
            # A peer reset (or a write after one): pass the reset on to the other side.
            self.abort()

    async def forward(self, direction, data, writer):
        stats = self.proxy.stats
        while data and not self.closed:
            await self.wait_while_stalled()
            n = len(data)
            if self.cut_direction == direction:
                n = min(n, self.cut_at - self.sent[direction])
            if self.stall_at is not None:
                n = min(n, max(0, self.stall_at - self.sent[UP] - self.sent[DOWN]))
            if n > 0:
                if self.buckets:
                    n = min(n, self.chunk)
                    await self.buckets[direction].take(n)
                if self.closed:
                    return
                writer.write(data[:n])
                await writer.drain()
                data = data[n:]
                self.sent[direction] += n
                if direction == UP:
                    stats.bytes_up += n
                else:
                    stats.bytes_down += n
            if self.cut_direction == direction and self.sent[direction] >= self.cut_at:
                await self.cut(direction, writer)
                return
            if self.stall_at is not None and self.sent[UP] + self.sent[DOWN] >= self.stall_at:
                self.stall_at = None
                self.stall_until = time.monotonic() + self.options.stall_seconds
                stats.stalls += 1
                self.log(f"stall for {self.options.stall_seconds}s after {self.sent[UP]} up, {self.sent[DOWN]} down")

    async def wait_while_stalled(self):
        while not self.closed:
            remaining = self.stall_until - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)

    async def cut(self, direction, writer):
        # Let the last bytes reach the peer (up to half a second) before the reset discards them.
        deadline = time.monotonic() + 0.5
        while not self.closed and unsent_bytes(writer) > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        if self.closed:
            return
        self.proxy.stats.cuts += 1
        self.log(f"cut {direction} after {self.sent[direction]} bytes")
        self.abort()

    def abort(self):
        """Resets both sides at once and stops both pumps."""
        if self.closed:
            return
        self.closed = True
        for writer in self.writers.values():
            set_reset_on_close(writer)
            writer.transport.abort()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()


class Proxy:
    def __init__(self, options):
        self.options = options
        self.seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**32)
        self.stats = Stats(self.seed)
        self.open = set()
        self.accepted = 0

    async def handle(self, reader, writer):
        number = self.accepted
        self.accepted += 1
        self.stats.connections += 1
        try:
            await Connection(self, number, reader, writer).run()
        except Exception as error:  # never let one connection take the proxy down
            print(f"faultproxy: connection {number}: {error!r}", file=sys.stderr, flush=True)
            set_reset_on_close(writer)
            writer.transport.abort()

    async def reset_periodically(self, every):
        while True:
            await asyncio.sleep(every)
            victims = list(self.open)
            for connection in victims:
                connection.abort()
            self.stats.resets += len(victims)
            if self.options.verbose and victims:
                print(f"faultproxy: reset {len(victims)} connection(s)", file=sys.stderr, flush=True)

    async def serve(self):
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: None)  # a peer reset is routine here
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        host, port = self.options.listen
        server = await asyncio.start_server(self.handle, host, port, backlog=1024, reuse_address=True)
        bound = server.sockets[0].getsockname()[1]
        write_atomically(self.options.port_file, f"{bound}\n")
        if self.options.verbose:
            print(f"faultproxy: listening on {host}:{bound}, seed {self.seed}", file=sys.stderr, flush=True)
        resetter = None
        if self.options.reset_every:
            resetter = asyncio.ensure_future(self.reset_periodically(self.options.reset_every))
        await stop.wait()
        if resetter:
            resetter.cancel()
        server.close()
        if self.options.stats_file:
            write_atomically(self.options.stats_file, self.stats.as_json() + "\n")


def parse(argv):
    parser = argparse.ArgumentParser(description="A TCP proxy that injects cuts, stalls, trickle and resets.")
    parser.add_argument("--listen", type=host_port, required=True, help="HOST:PORT to listen on (port 0: any)")
    parser.add_argument("--target", type=host_port, required=True, help="HOST:PORT to forward to")
    parser.add_argument("--port-file", required=True, help="where to write the bound port")
    parser.add_argument("--stats-file", help="where to write JSON stats on SIGTERM/SIGINT")
    parser.add_argument("--seed", type=int, help="seed for the fault choices (default: random)")
    parser.add_argument("--cut-probability", type=probability, default=0.0)
    parser.add_argument("--cut-after", type=byte_range, default=(0, 65536), metavar="MIN-MAX")
    parser.add_argument("--cut-direction", choices=["up", "down", "any"], default="any")
    parser.add_argument("--stall-probability", type=probability, default=0.0)
    parser.add_argument("--stall-seconds", type=float, default=0.0)
    parser.add_argument("--stall-after", type=byte_range, default=(1, 16384), metavar="MIN-MAX")
    parser.add_argument("--rate-bps", type=int, default=0, help="bits per second per direction (0: no limit)")
    parser.add_argument("--reset-every", type=float, default=0.0, help="reset all connections every SECONDS")
    parser.add_argument("--verbose", action="store_true", help="log each fault to standard error")
    options = parser.parse_args(argv)
    if options.rate_bps < 0 or options.reset_every < 0 or options.stall_seconds < 0:
        parser.error("--rate-bps, --reset-every and --stall-seconds cannot be negative")
    return options


def main(argv=None):
    options = parse(argv)
    asyncio.run(Proxy(options).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
