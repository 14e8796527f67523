/**
 * gradsync from a program: train a network of your own on a data folder with 2 local worker
 * processes, watch the epochs go by, and get the exported model's folder back.
 *
 *   npx tsx examples/api/train.ts DATA_DIR [EPOCHS]
 *
 * DATA_DIR is CIFAR-10 or CIFAR-100 binaries or an image folder (train/<class>/…, test/<class>/…).
 */
import { train, type ModelBuilder } from '@gradsync/api';

const [dataDir, epochs = '3'] = process.argv.slice(2);
if (!dataDir) {
  process.stderr.write('usage: npx tsx examples/api/train.ts DATA_DIR [EPOCHS]\n');
  process.exit(2);
}

const tinyResidualNet: ModelBuilder = ({ tf, inputShape, numClasses }) => {
  const input = tf.input({ shape: inputShape });
  const stem = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as ReturnType<typeof tf.input>;
  const branch = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(stem) as ReturnType<typeof tf.input>;
  const joined = tf.layers.add().apply([stem, branch]) as ReturnType<typeof tf.input>;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(joined) as ReturnType<typeof tf.input>;
  const logits = tf.layers.dense({ units: numClasses }).apply(pooled) as ReturnType<typeof tf.input>;
  return tf.model({ inputs: input, outputs: logits, name: 'tiny_residual' });
};

const result = await train({
  model: tinyResidualNet,
  data: dataDir,
  workers: 2,
  epochs: Number(epochs),
  batchSize: 64,
  onRecord: (record) => {
    if (record.kind === 'epoch')
      console.log(`epoch ${record.epoch + 1}: loss ${record.trainLoss.toFixed(4)}, test accuracy ${record.test?.accuracy.toFixed(4) ?? 'n/a'}`);
  },
});
console.log(`run ${result.status}: test accuracy ${result.testAccuracy?.toFixed(4) ?? 'n/a'}; exported model in ${result.modelDir}`);
