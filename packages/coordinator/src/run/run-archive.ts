import path from 'node:path';
import type { ModelShape, ModelTopology, RunConfig, PlateauState, ReplicaState, Replica } from '@gradsync/train';
import type { CifarSplit } from '@gradsync/data';
import { INITIAL_MODEL_DIR, saveLayersModel } from '@gradsync/train/node';
import { isZooModel, replicaForRun, topologyOf } from '@gradsync/train';
import { type Checkpoint, writeCheckpoint } from './checkpoint';

/**
 * The coordinator's own replica, which never trains: it holds the initial (or resumed) weights,
 * takes the group's state before each checkpoint and at the end, and writes checkpoints and the
 * exported model into the run folder.
 */
export class RunArchive {
  readonly replica: Replica;
  /** What workers rebuild the network from when it is not a zoo model (sent in the welcome). */
  readonly modelTopology?: ModelTopology;

  constructor(
    private readonly config: RunConfig,
    private readonly runDir: string,
    private readonly classNames: string[],
    resume: Checkpoint | null,
    trainSplit: CifarSplit,
    shape: ModelShape,
    /** The network when --model names a file (networkForRun); zoo models are built here. */
    network?: Replica['model'],
  ) {
    // The run's own model (BatchNorm's epsilon included) so the exported model normalises as trained;
    // the training images make the first weights that come from the data (a whitened stem), sent to every worker.
    this.replica = replicaForRun(config, resume ? undefined : trainSplit, shape, network);
    this.modelTopology = isZooModel(config.model) ? undefined : topologyOf(this.replica.model);
    if (resume) this.replica.setState(resume.state);
  }

  /** Floats in one full state vector (weights + statistics): sizes the frames that carry it. */
  get bufferFloats(): number {
    return this.replica.bufferLength;
  }

  initialState(): ReplicaState {
    return this.replica.getState();
  }

  adopt(state: ReplicaState): void {
    this.replica.setState(state);
  }

  /** Writes checkpoints/<step> (state, metadata, a loadable model); returns its folder. */
  checkpoint(meta: { nextEpoch: number; step: number; plateau: PlateauState }): Promise<string> {
    return writeCheckpoint(this.runDir, { runName: this.config.runName, model: this.config.model, ...meta }, this.replica.getState(), (tmp) =>
      saveLayersModel(this.replica.model, path.join(tmp, 'model'), { classNames: this.classNames }),
    );
  }

  /** Writes runs/<name>/initial-model: the network as the run begins, to rerun it (--model …/model.json) or resume it. */
  async saveInitialModel(): Promise<string> {
    const dir = path.join(this.runDir, INITIAL_MODEL_DIR);
    await saveLayersModel(this.replica.model, dir, {
      classNames: this.classNames,
      model: this.config.model,
      note: 'the network and weights this run began with',
    });
    return dir;
  }

  /** Writes runs/<name>/model, the final model with its metadata; returns the folder and weights hash. */
  async exportModel(): Promise<{ dir: string; weightsHash: string }> {
    const dir = path.join(this.runDir, 'model');
    const weightsHash = this.replica.weightsHash();
    await saveLayersModel(this.replica.model, dir, {
      classNames: this.classNames,
      input: `float32 NHWC [n, ${this.replica.shape.inputShape.join(', ')}], ${this.replica.shape.inputShape[2] === 1 ? 'greyscale' : 'RGB'} scaled to [0, 1]`,
      output: 'logits over classNames',
      config: this.config,
      weightsHash,
    });
    return { dir, weightsHash };
  }
}
