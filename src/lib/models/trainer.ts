/**
 * One trainer for every model (the VAE, the DAE and GAN of the zoo, the evaluation classifier): seeded
 * shuffled mini-batches, a progress bar, one history row an epoch, a stop with a clear message when a
 * statistic stops being finite; everything else comes as callbacks (training-callbacks.ts: KL warm-up,
 * learning-rate schedules, validation, keeping the best epoch, early stopping, checkpoints), as pythae's
 * trainers and training_callbacks.py divide the work.
 *
 * The model brings its own step (hand-written backprop for the VAE, autodiff for the zoo, augmented batches
 * for the classifier) through TrainerModel; the trainer owns the loop and its random stream, so that equal
 * seeds give equal runs whichever model is trained.
 */
import { InputError } from '../util/errors';
import { Progress, ProgressMode } from '../util/progress';
import { Rng } from '../util/rng';

/** Where a step stands, and the learning rate the schedules set for it. */
export interface StepContext {
  /** 0-based epoch. */
  epoch: number;
  /** 0-based step within the epoch. */
  step: number;
  stepsPerEpoch: number;
  /** The rows of this step's batch (indices into the training data). */
  rows: Int32Array;
  learningRate: number;
}

/** One history row: the epoch (1-based), the model's statistics, what callbacks add, and its seconds. */
export interface EpochRow {
  epoch: number;
  seconds: number;
}

/** What the trainer needs from a model. */
export interface TrainerModel<Row extends EpochRow> {
  /** N: the training rows. */
  readonly rows: number;
  /** A fresh optimiser; `rng` is the trainer's stream before its first shuffle (for noise seeds the model draws). */
  begin(rng: Rng): void;
  /** One optimisation step on the rows ctx.rows. */
  step(ctx: StepContext): void;
  /** The epoch's row from the statistics gathered since the last call (epoch 1-based; seconds are filled in later). */
  endEpoch(epoch: number, ctx: StepContext): Row;
  /** Frees the optimiser (also after an error). */
  end(): void;
}

/** The trainer's state as callbacks see it. */
export interface TrainerState<Row extends EpochRow> {
  readonly history: Row[];
  /** The learning rate of the next steps (schedules change it). */
  learningRate: number;
  /** Set by a callback to end training after this epoch. */
  stop: boolean;
  /** The epoch whose weights the model holds at the end (callbacks that restore weights set it). */
  bestEpoch: number;
  /** Words for the final status line (e.g. "stopped early; best epoch 7"). */
  notes: string[];
}

export interface TrainerCallback<Row extends EpochRow> {
  /** Before each epoch's steps (epoch 0-based): learning-rate schedules by epoch. */
  onEpochBegin?(epoch: number, state: TrainerState<Row>): void;
  /** Before each step: e.g. the KL weight of the warm-up. */
  onStepBegin?(ctx: StepContext, state: TrainerState<Row>): void;
  /** With the epoch's row before it is recorded: validation, schedules that read it. */
  onEpochEnd?(row: Row, state: TrainerState<Row>): void;
  /** After the row is recorded and checked: best epoch, early stopping, checkpoints, live plots. */
  afterEpoch?(row: Row, state: TrainerState<Row>): void;
  /** After the last epoch (not after an error): restore weights, final checkpoints. */
  onTrainEnd?(state: TrainerState<Row>): void;
  /** Frees what the callback holds, always. */
  dispose?(): void;
}

export interface TrainerOptions<Row extends EpochRow> {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** The progress bar's label and the prefix of errors. */
  label: string;
  progress?: ProgressMode | false;
  /** The epoch's status line. */
  status: (row: Row, epochs: number) => string;
  /** The statistics that must stay finite (default: every number of the row). */
  finite?: (row: Row) => [string, number][];
  callbacks?: TrainerCallback<Row>[];
}

export interface TrainerResult<Row extends EpochRow> {
  history: Row[];
  bestEpoch: number;
  stoppedEarly: boolean;
  seconds: number;
}

/** Lets the event loop run (notebook output, timers) from inside a long synchronous loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The number of rows of data [N, dim], or an InputError naming `where`. */
export function rowsOf(data: Float32Array, dim: number, where: string): number {
  if (data.length === 0 || data.length % dim !== 0) throw new InputError(where, `expected rows of ${dim} values, got an array of length ${data.length}`);
  return data.length / dim;
}

/** Copies rows `rows` of data [N, D] into out [rows.length, D] (a view of `out` when the batch is shorter). */
export function gatherBatch(data: Float32Array, dim: number, rows: Int32Array, out: Float32Array): Float32Array {
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return rows.length * dim === out.length ? out : out.subarray(0, rows.length * dim);
}

/** Trains `model` for opts.epochs epochs of seeded shuffled mini-batches (the last one of an epoch may be smaller). */
export async function train<Row extends EpochRow>(model: TrainerModel<Row>, opts: TrainerOptions<Row>): Promise<TrainerResult<Row>> {
  const callbacks = opts.callbacks ?? [];
  const n = model.rows;
  const rng = new Rng(opts.seed);
  const stepsPerEpoch = Math.ceil(n / opts.batchSize);
  const progress = new Progress({ label: opts.label, total: opts.epochs * stepsPerEpoch, unit: 'batch', ...(opts.progress !== undefined ? { mode: opts.progress || 'off' } : {}) });
  const state: TrainerState<Row> = { history: [], learningRate: opts.learningRate, stop: false, bestEpoch: 0, notes: [] };
  const finite = opts.finite ?? ((row: Row) => Object.entries(row).filter((e): e is [string, number] => typeof e[1] === 'number'));
  const start = Date.now();
  let lastYield = Date.now();
  try {
    model.begin(rng);
    try {
      for (let epoch = 0; epoch < opts.epochs && !state.stop; epoch++) {
        const t0 = Date.now();
        for (const cb of callbacks) cb.onEpochBegin?.(epoch, state);
        const order = rng.permutation(n);
        let ctx: StepContext | null = null;
        for (let s = 0; s < stepsPerEpoch; s++) {
          ctx = { epoch, step: s, stepsPerEpoch, rows: order.subarray(s * opts.batchSize, Math.min(n, (s + 1) * opts.batchSize)), learningRate: state.learningRate };
          for (const cb of callbacks) cb.onStepBegin?.(ctx, state);
          model.step(ctx);
          // The epoch's last tick waits for its status line (log mode prints only every tenth of the way).
          if (s < stepsPerEpoch - 1) progress.tick(1);
          if (Date.now() - lastYield > 250) {
            await yieldToEventLoop();
            lastYield = Date.now();
          }
        }
        const row = model.endEpoch(epoch + 1, ctx!);
        for (const cb of callbacks) cb.onEpochEnd?.(row, state);
        row.seconds = (Date.now() - t0) / 1000;
        state.history.push(row);
        state.bestEpoch = row.epoch;
        const bad = finite(row).find(([, v]) => !Number.isFinite(v));
        if (bad) throw new Error(`${opts.label}: the ${bad[0]} became ${bad[1]} in epoch ${row.epoch}; lower the learning rate`);
        for (const cb of callbacks) cb.afterEpoch?.(row, state);
        progress.tick(1, opts.status(row, opts.epochs));
        await yieldToEventLoop();
      }
      for (const cb of callbacks) cb.onTrainEnd?.(state);
    } finally {
      model.end();
    }
    const last = state.history[state.history.length - 1];
    progress.finish(`${opts.status(last, opts.epochs)}${state.notes.map((s) => `, ${s}`).join('')}`);
    return { history: state.history, bestEpoch: state.bestEpoch, stoppedEarly: state.stop, seconds: (Date.now() - start) / 1000 };
  } finally {
    for (const cb of callbacks) cb.dispose?.();
  }
}
