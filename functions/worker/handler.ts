// Entry point of the worker Lambda; being written now (see the worker issue). Kept so the stack can bundle it.
export const handler = async (): Promise<never> => {
  throw new Error('worker handler not implemented yet');
};
