import { randomBytes } from 'node:crypto';
import type { OrderRecord, StepState } from '../domain/order-record';
import { TransientError } from '../errors';
import type { WriteOutcome } from '../order-system/ledger';

/**
 * Exactly-once bookkeeping of an order's external effects, kept on the order item itself
 * (`steps.<name> = {status: IN_PROGRESS|COMPLETED, qualifier, token, leaseUntil, result}`).
 *
 * Why on the order item rather than one idempotency record per step: every claim, completion and
 * release is a change to a draft of the item, written with the whole-item conditional write the
 * worker makes anyway (condition `version`), so a claim rides on saving the event, the create's
 * completion and the next steps' claims ride on attaching the ids, and a refused write hands back
 * the item as it stands (no re-read). One writer wins per version: a claim is exclusive because the
 * write that makes it fails when anyone changed the item since it was read, and every whole-item
 * save of another delivery re-applies on the item that holds the claim.
 *
 * Why hand-written rather than Powertools idempotency: Powertools keys one record per handler call
 * and cannot resume a half-done sequence of effects keyed by provider order; the leases are ours to test.
 */

export type StepView =
  | { state: 'claimable'; takenOver: boolean }
  | { state: 'completed'; result: unknown }
  | { state: 'busy'; leaseUntil: number };

/**
 * What a step is for a caller wanting it for `qualifier` at `now`: completed (same qualifier),
 * busy (any qualifier in progress within its lease), or claimable (absent, a lapsed lease, or done
 * for another qualifier, which this one replaces: one entry per step keeps the item bounded).
 */
export function viewStep(state: StepState | undefined, qualifier: string | undefined, now: number): StepView {
  if (!state) return { state: 'claimable', takenOver: false };
  if (state.status === 'COMPLETED')
    return state.qualifier === qualifier
      ? { state: 'completed', result: state.result }
      : { state: 'claimable', takenOver: false };
  const leaseUntil = Number(state.leaseUntil ?? 0);
  return leaseUntil < now ? { state: 'claimable', takenOver: true } : { state: 'busy', leaseUntil };
}

/** The slice of OrderStore the steps need: one conditional whole-item write. */
export interface OrderItemWriter {
  write(record: OrderRecord, expectedVersion: number | undefined): Promise<WriteOutcome>;
}

/** Changes a draft of the item; returns false (or nothing) when there is nothing to write. */
export type DraftChange = (draft: OrderRecord, current: OrderRecord | undefined) => boolean | undefined;

const WRITE_ATTEMPTS = 8;

/**
 * One attempt's view of an order item and of the steps it holds. Every write goes through
 * `update`, which re-applies the change on the item a refused write returns.
 */
export class OrderSteps {
  private readonly owned = new Map<string, { token: string; qualifier?: string; takenOver?: boolean }>();
  private pending = new Map<string, { token: string; qualifier?: string; takenOver?: boolean }>();
  /** Held steps whose effect may or may not have been made (an uncertain outcome): kept on release. */
  private readonly uncertain = new Set<string>();
  /** Held steps whose effect was made but whose completion may not have been written yet. */
  private readonly made = new Map<string, unknown>();

  constructor(
    private readonly store: OrderItemWriter,
    /** The item as last read or written (undefined: not stored yet). */
    public item: OrderRecord | undefined,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Writes `build(current)` (a new record, or undefined for nothing to write) on the current item,
   * conditioned on its version; on a conflict, builds again on the item the refusal returned.
   */
  async update(build: (current: OrderRecord | undefined) => OrderRecord | undefined): Promise<void> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      this.pending = new Map();
      const next = build(this.item);
      if (!next) return;
      const out = await this.store.write(next, this.item?.version);
      if (out.written) {
        this.item = out.record;
        for (const [name, held] of this.pending) this.owned.set(name, held);
        for (const name of [...this.owned.keys()])
          if (this.item.steps?.[name]?.token !== this.owned.get(name)?.token) this.owned.delete(name);
        return;
      }
      this.item = out.current;
    }
    throw new TransientError('order item kept changing under concurrent writers');
  }

  /** `update` with a change to a copy of the stored item (nothing when the item is not stored). */
  async change(fn: DraftChange): Promise<void> {
    await this.update((current) => {
      if (!current) return undefined;
      const draft = structuredClone(current);
      return fn(draft, current) ? draft : undefined;
    });
  }

  /** The step as the latest known item holds it. */
  view(name: string, qualifier: string | undefined): StepView {
    return viewStep(this.item?.steps?.[name], qualifier, this.now());
  }

  /** Whether this attempt holds `name` (claimed and not lost) in the latest known item. */
  owns(name: string): boolean {
    return this.owned.has(name);
  }

  /** Claims `name` in `draft` when claimable there; the claim holds once the draft is written. */
  claimIn(draft: OrderRecord, name: string, qualifier: string | undefined): boolean {
    if (this.owned.has(name) && draft.steps?.[name]?.token === this.owned.get(name)?.token) return false;
    const view = viewStep(draft.steps?.[name], qualifier, this.now());
    if (view.state !== 'claimable') return false;
    // 96 random bits, 16 characters: the token is rewritten with the item at every write.
    const token = randomBytes(12).toString('base64url');
    draft.steps = {
      ...draft.steps,
      [name]: {
        status: 'IN_PROGRESS',
        ...(qualifier !== undefined ? { qualifier } : {}),
        token,
        leaseUntil: this.now() + this.leaseMs,
      },
    };
    this.pending.set(name, {
      token,
      ...(qualifier !== undefined ? { qualifier } : {}),
      ...(view.takenOver ? { takenOver: true } : {}),
    });
    return true;
  }

  /**
   * Whether this attempt's claim on `name` took over an entry left in progress: a crashed holder,
   * or one released after an uncertain outcome. Its effect may have been made: verify before repeating.
   */
  tookOver(name: string): boolean {
    return this.owned.get(name)?.takenOver === true;
  }

  /** The held step's effect may have been made: `releaseIn` leaves it for the next attempt to verify. */
  markUncertain(name: string): void {
    if (this.owned.has(name)) this.uncertain.add(name);
  }

  /**
   * Completes a step this attempt holds in `draft`. False when the claim was lost (its lease lapsed
   * and another attempt took over): the caller logs it; the effect was made.
   */
  completeIn(draft: OrderRecord, name: string, result: unknown): boolean {
    const held = this.owned.get(name);
    const state = draft.steps?.[name];
    if (!held || state?.token !== held.token) return false;
    draft.steps = {
      ...draft.steps,
      [name]: {
        status: 'COMPLETED',
        ...(held.qualifier !== undefined ? { qualifier: held.qualifier } : {}),
        ...(result !== undefined ? { result } : {}),
        // Rides on the completing write: the console's timeline shows when each effect was made.
        completedAt: new Date(this.now()).toISOString(),
      },
    };
    return true;
  }

  /**
   * Records in `draft` a step whose effect that very write makes (the ledger's ids, attached with the
   * event): completed at once, never claimed. False when the draft holds it completed or busy already.
   */
  recordIn(draft: OrderRecord, name: string, qualifier: string | undefined, result: unknown): boolean {
    if (viewStep(draft.steps?.[name], qualifier, this.now()).state !== 'claimable') return false;
    draft.steps = {
      ...draft.steps,
      [name]: {
        status: 'COMPLETED',
        ...(qualifier !== undefined ? { qualifier } : {}),
        ...(result !== undefined ? { result } : {}),
        completedAt: new Date(this.now()).toISOString(),
      },
    };
    return true;
  }

  /**
   * Notes that a held step's effect was made without writing its completion yet: the next
   * `complete` (or `releaseAll`) writes it along. A crash before that leaves the step in progress,
   * and the attempt that takes it over verifies before repeating the effect.
   */
  noteMade(name: string, result: unknown): void {
    if (this.owned.has(name)) this.made.set(name, result);
  }

  /**
   * Gives back, in `draft`, every step this attempt holds but has not completed; a step whose effect
   * was made (`made`) is completed instead, so the redelivery never repeats it.
   */
  releaseIn(draft: OrderRecord): boolean {
    let changed = false;
    for (const [name, held] of this.owned) {
      const state = draft.steps?.[name];
      if (state?.status !== 'IN_PROGRESS' || state.token !== held.token) continue;
      if (this.made.has(name)) {
        changed = this.completeIn(draft, name, this.made.get(name)) || changed;
        continue;
      }
      if (this.uncertain.has(name)) {
        // Kept, with its lease already lapsed: the next attempt claims it at once and, seeing a
        // takeover, verifies before repeating the effect (as after a crash), instead of starting blind.
        draft.steps = {
          ...draft.steps,
          [name]: {
            ...state,
            leaseUntil: Math.min(Number(state.leaseUntil ?? 0), this.now() - 1),
            uncertain: true,
          },
        };
        changed = true;
        continue;
      }
      const { [name]: _released, ...rest } = draft.steps ?? {};
      draft.steps = rest;
      changed = true;
    }
    return changed;
  }

  /** Whether this attempt holds any step (something to release after a failure). */
  get holdsAny(): boolean {
    return this.owned.size > 0;
  }

  /**
   * Completes a held step whose effect was made, with one write; false when the claim was lost. If
   * the write fails, `releaseAll` completes it rather than giving it back.
   */
  async complete(name: string, result: unknown): Promise<boolean> {
    this.made.set(name, result);
    const made = [...this.made];
    let kept = false;
    await this.change((draft) => {
      let changed = false;
      for (const [step, value] of made) {
        const done = this.completeIn(draft, step, value);
        if (step === name) kept = done;
        changed = done || changed;
      }
      return changed;
    });
    for (const [step] of made) {
      this.owned.delete(step);
      this.made.delete(step);
    }
    return kept;
  }

  /** After a failure: frees every held step with one write, so a redelivery can start at once (best effort). */
  async releaseAll(): Promise<void> {
    if (!this.holdsAny) return;
    await this.change((draft) => this.releaseIn(draft));
    this.owned.clear();
    this.uncertain.clear();
  }
}
