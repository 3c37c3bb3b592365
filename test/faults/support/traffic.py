# Steady TCP traffic for the capture fault test (run inside network namespaces with `ip netns exec`):
#   server PORT              echoes whatever it reads; prints "listening"
#   client HOST PORT N HZ    N long-lived connections, each sending 16 bytes and reading them back
#                            HZ times a second; prints "connected <n>" once all are open, runs until
#                            killed
# Many connections active every 100 ms make the capture emit a window per connection and side
# every active timeout: tens of thousands of flows a second from little CPU, enough to fill the
# capture's bus queue within seconds when the bus stalls.
import asyncio, sys


async def server(port):
    async def handle(reader, writer):
        try:
            while True:
                b = await reader.read(1 << 12)
                if not b:
                    break
                writer.write(b)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(handle, None, port, backlog=4096, reuse_address=True)
    print("listening", flush=True)
    async with srv:
        await srv.serve_forever()


async def client(host, port, n, hz):
    async def one():
        reader, writer = await asyncio.open_connection(host, port)
        opened.append(1)
        while True:
            writer.write(b"p" * 16)
            await writer.drain()
            await reader.readexactly(16)
            await asyncio.sleep(1 / hz)

    opened = []
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(one()))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    while len(opened) < n:
        await asyncio.sleep(0.05)
    print("connected", len(opened), flush=True)
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "server":
        asyncio.run(server(int(args[0])))
    elif mode == "client":
        asyncio.run(client(args[0], int(args[1]), int(args[2]), float(args[3])))
    else:
        sys.exit(f"unknown mode {mode}")
