# Test peers for the capture e2e tests (run inside network namespaces with `ip netns exec`).
#   server PORT...                    asyncio server (PORT as dNNNN: one dual-stack socket): reads a 16-byte header (n_up, n_down), n_up
#                                     bytes, answers n_down bytes, then waits for the client to close
#                                     (PORT as bNNNN: sends a 4096-byte banner before reading; it counts toward n_down)
#   client HOST PORT N_UP N_DOWN      one connection; prints "ready <lport> <pid>" once done, then
#                                     reads "fin" or "rst" on stdin, closes that way, prints "closed"
#   connect HOST PORT                 one connect() that may fail; prints "failed <errno name>" or "ok"
#   paced HOST PORT CHUNKS BYTES MS  sends CHUNKS chunks of BYTES every MS ms, reads 100 B back,
#                                     closes with FIN, waits for the server's FIN; prints "done <lport>"
#   churn HOST PORT COUNT PARALLEL    COUNT short connections (100 B each way), prints "ports <local ports>"
#   sendonly PORT BYTES               a server that never reads: accepts, sends BYTES, closes (no recv
#                                     syscall on the accepted socket, ever); prints "listening <pid>"
#   drain HOST PORT                   connects, sends nothing, reads to EOF, closes; prints
#                                     "done <lport> <pid> <bytes read>"
import asyncio, os, socket, struct, sys

def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(1 << 16, n - got))
        if not b:
            raise EOFError(f"peer closed after {got}/{n}")
        got += len(b)

BANNER = 4096

async def serve(ports):
    async def handle(reader, writer, banner=False):
        try:
            if banner:  # speaks first, as SMTP or MySQL servers do: its first syscall is a send
                writer.write(b"b" * BANNER)
                await writer.drain()
            n_up, n_down = struct.unpack("<QQ", await reader.readexactly(16))
            if banner:
                n_down = max(n_down - BANNER, 0)
            left = n_up
            while left:
                left -= len(await reader.read(min(left, 1 << 16)))
            chunk = b"d" * (1 << 16)
            left = n_down
            while left:
                writer.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
                await writer.drain()
            while await reader.read(1 << 16):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
    async def listen(p):
        if p.startswith("d"):  # one dual-stack socket: IPv4 peers appear as ::ffff:a.b.c.d
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", int(p[1:])))
            return await asyncio.start_server(handle, sock=s, backlog=4096)
        if p.startswith("b"):  # banner first, then as below (the banner counts toward N_DOWN)
            banner = lambda r, w: handle(r, w, banner=True)
            return await asyncio.start_server(banner, None, int(p[1:]), backlog=4096, reuse_address=True)
        # host None: one IPv4 and one IPv6 listening socket
        return await asyncio.start_server(handle, None, int(p), backlog=4096, reuse_address=True)
    servers = [await listen(p) for p in ports]
    print("listening", os.getpid(), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))

def client(host, port, n_up, n_down):
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(struct.pack("<QQ", n_up - 16, n_down) + b"u" * (n_up - 16))
    recv_exact(s, n_down)
    print("ready", s.getsockname()[1], os.getpid(), flush=True)
    how = sys.stdin.readline().strip()
    if how == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("closed", flush=True)

async def churn(host, port, count, parallel):
    ports = []
    sem = asyncio.Semaphore(parallel)
    async def one():
        async with sem:
            reader, writer = await asyncio.open_connection(host, port)
            ports.append(writer.get_extra_info("sockname")[1])
            writer.write(struct.pack("<QQ", 84, 100) + b"c" * 84)
            await reader.readexactly(100)
            writer.close()
            await writer.wait_closed()
    await asyncio.gather(*(one() for _ in range(count)))
    print("ports", " ".join(map(str, ports)), flush=True)

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "server":
        asyncio.run(serve(sys.argv[2:]))
    elif mode == "client":
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "paced":
        import time
        chunks, size, ms = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60)
        s.sendall(struct.pack("<QQ", chunks * size - 16, 100))
        s.sendall(b"p" * (size - 16))
        for _ in range(chunks - 1):
            time.sleep(ms / 1000)
            s.sendall(b"p" * size)
        recv_exact(s, 100)
        port = s.getsockname()[1]
        # half-close and wait for the server's FIN: both ends have left FIN_WAIT/LAST_ACK's race
        # with the caller, which may stop a capture as soon as it reads "done"
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 16):
            pass
        s.close()
        print("done", port, flush=True)
    elif mode == "connect":
        try:
            socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=30).close()
            print("ok", flush=True)
        except OSError as e:
            print("failed", type(e).__name__, flush=True)
    elif mode == "sendonly":
        lsock = socket.create_server(("0.0.0.0", int(sys.argv[2])), reuse_port=False)
        print("listening", os.getpid(), flush=True)
        data = b"s" * int(sys.argv[3])
        while True:
            conn, _ = lsock.accept()
            conn.sendall(data)
            conn.close()
    elif mode == "drain":
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60)
        got = 0
        while True:
            b = s.recv(1 << 16)
            if not b:
                break
            got += len(b)
        port = s.getsockname()[1]
        s.close()
        print("done", port, os.getpid(), got, flush=True)
    elif mode == "churn":
        asyncio.run(churn(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
