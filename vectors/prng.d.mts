export function xorshift32(seed: number): () => number;
export function randomBytes(seed: number, n: number): Uint8Array;
export function textLikeBytes(seed: number, n: number): Uint8Array;
