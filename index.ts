// Entry point for `pulumi up` in this folder (with an ordinary Pulumi install).
import { rootProgram } from "./program";

export = rootProgram;
