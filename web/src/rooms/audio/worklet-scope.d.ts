// The AudioWorkletGlobalScope names the worklets use (TypeScript's DOM lib has none of them).
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: AudioWorkletNodeOptions);
}
declare function registerProcessor(
  name: string,
  ctor: new (options?: AudioWorkletNodeOptions) => AudioWorkletProcessor & {
    process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
  },
): void;
/** Context frame of the first sample of the quantum being processed. */
declare const currentFrame: number;
