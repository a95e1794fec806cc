// Entry point of the ingest Lambda; being written now (see the ingest issue). Kept so the stack can bundle it.
export const handler = async (): Promise<never> => {
  throw new Error('ingest handler not implemented yet');
};
