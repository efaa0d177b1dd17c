import { connect, type Socket } from "net";

/** A RESP2 reply: strings, integers, nil, arrays, or an error line. */
export type RespValue = string | number | null | RespValue[] | { error: string };

/** Parses one reply at `offset`; undefined while the buffer holds only part of it. */
function parse(buffer: Buffer, offset: number): [RespValue, number] | undefined {
  const lineEnd = buffer.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return [line, next];
    case "-":
      return [{ error: line }, next];
    case ":":
      return [Number(line), next];
    case "$": {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.toString("utf8", next, next + length), next + length + 2];
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

const encode = (args: string[]): string =>
  `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`;

/** A minimal Redis connection: one command at a time, RESP2, over `net`. */
export class RespConnection {
  private buffer = Buffer.alloc(0);
  private waiting: ((value: RespValue) => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    socket.on("error", (error) => {
      this.failure = error;
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

  private deliver(): void {
    if (!this.waiting) return;
    const parsed = parse(this.buffer, 0);
    if (!parsed) return;
    this.buffer = this.buffer.subarray(parsed[1]);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting(parsed[0]);
  }

  command(args: string[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${args[0]}`)), 5000);
      this.waiting = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.socket.write(encode(args));
      this.deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
