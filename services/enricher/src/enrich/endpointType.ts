// The Avro type of one Endpoint (schemas/endpoint.v1.avsc), built once: what a Target's cached
// bytes are encoded with. Endpoint has no long fields, so plain avsc types are exact here.
import { loadSchemaFile, parseSchema } from "@netpulse/runtime/codec/avro";
import type { Endpoint } from "@netpulse/runtime/records";

const endpointType = parseSchema(loadSchemaFile("endpoint.v1.avsc"));

export const encodeEndpoint = (e: Endpoint): Buffer => endpointType.toBuffer(e);
