import { setTimeout as sleep } from "timers/promises";
import type { UpstashEmulator } from "../../emulator/server";
import { redisRest } from "./dataPlane";

/**
 * An application that keeps using Redis over REST with the token it last
 * received from the consumer stack's outputs: `SET` then `GET` of its own key,
 * back to back. It picks up a new token only when told (after the consumer's
 * `pulumi up`), like a deployment that reads its secrets at rollout.
 */
export class ConsumerLoop {
  requests = 0;
  failed = 0;
  private token = "";
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly emulator: UpstashEmulator,
    private readonly databaseId: string,
  ) {}

  use(token: string): void {
    this.token = token;
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const value = `v${i}`;
        const set = await redisRest(
          this.emulator,
          this.token,
          ["SET", "loop", value],
          this.databaseId,
        );
        const get = await redisRest(this.emulator, this.token, ["GET", "loop"], this.databaseId);
        this.requests += 2;
        if (set.status !== 200) this.failed++;
        if (get.status !== 200 || get.result !== value) this.failed++;
        await sleep(5);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
