// Public surface of the capture service, for the CLI. Other services never import it.
export { capturePipeline, type PipelineSettings } from "./CapturePipeline.js";
export { captureConfig, pipelineSettings, defaults as captureDefaults, type CaptureSettings } from "./CaptureConfig.js";
export { CaptureStats } from "./CaptureStats.js";
export { runCapture } from "./CaptureService.js";
export { Loader, LoaderError, defaultLoaderPath, type LoaderOptions } from "./LoaderProcess.js";
export { parseCidrList, parsePortList } from "./filters.js";
export { captureNodeFlags } from "./nodeFlags.js";
