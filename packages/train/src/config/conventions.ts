/**
 * Where the tutorial's recipe leaves a value to the framework, Keras and PyTorch pick differently.
 * `--conventions` picks one framework's set; a flag for one of these (--bn-momentum) still wins.
 */
import { KERAS_BN_EPSILON, KERAS_BN_MOMENTUM } from '../model/zoo';
import { type AdamConfig, KERAS_ADAM, PYTORCH_ADAM } from '../training/adam';
import type { PlateauConfig } from '../training/plateau';

export const CONVENTIONS = ['keras', 'pytorch'] as const;
export type Conventions = (typeof CONVENTIONS)[number];

export interface ConventionDefaults {
  /** Adam's epsilon and where it is added (adam.ts). */
  adam: AdamConfig;
  bnEpsilon: number;
  /** Keras' convention: PyTorch's BatchNorm2d momentum 0.1 is 0.9 here. */
  bnMomentum: number;
  /** How ReduceLROnPlateau tells an improvement (plateau.ts). */
  plateauThreshold: PlateauConfig['threshold'];
}

export const CONVENTION_DEFAULTS: Readonly<Record<Conventions, ConventionDefaults>> = {
  keras: { adam: KERAS_ADAM, bnEpsilon: KERAS_BN_EPSILON, bnMomentum: KERAS_BN_MOMENTUM, plateauThreshold: 'absolute' },
  pytorch: { adam: PYTORCH_ADAM, bnEpsilon: 1e-5, bnMomentum: 0.9, plateauThreshold: 'relative' },
};
