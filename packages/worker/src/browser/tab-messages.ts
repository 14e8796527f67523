/**
 * Messages between the dashboard page and the tab worker it starts (a dedicated Web Worker in the
 * same tab, so the training step never blocks the page's charts). Not part of the network protocol.
 */

/** Which TensorFlow.js backend the tab trains with: 'auto' takes WebGPU on a real GPU adapter, else wasm. */
export type TabBackendChoice = 'auto' | 'webgpu' | 'wasm';

export interface TabStart {
  type: 'start';
  /** ws(s):// URL of the coordinator's worker endpoint. */
  url: string;
  token?: string;
  /** Absolute URL of the folder holding tfjs-backend-wasm's .wasm binaries, ending in '/'. */
  wasmBase: string;
  backend: TabBackendChoice;
  /** How the tab names itself in the worker table. */
  label: string;
}

export interface TabLeave {
  type: 'leave';
}

export type PageToTab = TabStart | TabLeave;

/** Where the tab's worker stands: its session's phase while connected, then how it ended. */
export type TabState = 'loading' | 'connecting' | 'receiving-data' | 'waiting' | 'training' | 'ended' | 'failed';

export type TabToPage = { type: 'log'; line: string } | { type: 'state'; state: TabState; detail: string } | { type: 'backend'; name: string; device: string };
