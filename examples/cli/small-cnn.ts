/**
 * A network for `--model`: its default export builds a tf.LayersModel from the data's image
 * shape and class count, with the tfjs gradsync passes in (no tfjs install of your own). It runs
 * on the coordinator only; workers rebuild the network from its topology.
 *
 *   pnpm start --model examples/cli/small-cnn.ts --data-dir DIR --epochs 5
 */
import type { ModelBuilder } from '@gradsync/api';

const smallCnn: ModelBuilder = ({ tf, inputShape, numClasses }) => {
  const model = tf.sequential({ name: 'small_cnn' });
  model.add(tf.layers.conv2d({ inputShape, filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  // Logits: gradsync's loss applies softmax itself (a softmax here is refused at start).
  model.add(tf.layers.dense({ units: numClasses }));
  return model;
};

export default smallCnn;
