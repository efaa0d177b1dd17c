import { spawn, spawnSync } from "child_process";
import { connect, createServer, type Socket } from "net";
import { encodeCommand, parseResp, type RespValue } from "../../emulator/resp";

export type { RespValue };

/** A minimal Redis connection: one command at a time, over `net`, no handshake of its own. */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((value: RespValue) => void) | undefined;
  private abandon: ((error: Error) => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    socket.on("error", (error) => {
      this.failure = error;
    });
    socket.on("close", () => {
      this.ended = true;
      this.abandon?.(new Error("the server closed the connection without a reply"));
    });
  }

  static open(port: number, host = "127.0.0.1"): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RespConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Whether the server closed the connection. */
  get closed(): boolean {
    return this.ended;
  }

  private deliver(): void {
    if (!this.waiting) return;
    const parsed = parseResp(this.buffer, 0);
    if (!parsed) return;
    this.buffer = this.buffer.subarray(parsed[1]);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting(parsed[0]);
  }

  command(args: string[]): Promise<RespValue> {
    return this.send(encodeCommand(args), args[0]);
  }

  /** Sends raw bytes (an inline command, say) and reads one reply. */
  send(raw: string, what = "raw bytes"): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error("the connection is closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${what}`)), 5000);
      this.waiting = (value) => {
        clearTimeout(timer);
        this.abandon = undefined;
        resolve(value);
      };
      this.abandon = (error) => {
        clearTimeout(timer);
        this.waiting = undefined;
        reject(error);
      };
      this.socket.write(raw);
      this.deliver();
    });
  }

  /** Resolves once the server has closed the connection (rejects after 5 s). */
  async whenClosed(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error("the server kept the connection open");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export const isRespError = (value: RespValue): value is { error: string } =>
  value !== null && typeof value === "object" && !Array.isArray(value);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const found = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(found));
    });
  });
}

/** Whether Debian's `redis-server` is on PATH (`apt-get install -y redis-server`). */
export function hasRedisServer(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return !probe.error && probe.status === 0;
}

/**
 * A real Redis 7 on a free loopback port, without persistence, with `args`
 * added (e.g. `--requirepass`); `stop` ends it. `password` authenticates the
 * readiness probe.
 */
export async function startRedisServer(
  args: string[] = [],
  password?: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const server = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...args],
    { stdio: "ignore" },
  );
  const stop = async (): Promise<void> => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const connection = await RespConnection.open(port);
      if (password) await connection.command(["AUTH", password]);
      const pong = await connection.command(["PING"]);
      connection.close();
      if (pong === "PONG") return { port, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || server.exitCode !== null) {
      await stop();
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
