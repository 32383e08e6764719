/** The token prompt's trigger: any page that gets a 401 calls askForToken; the app shows the form. */
let listener: ((reason: string) => void) | undefined;

export const onTokenNeeded = (handler: (reason: string) => void): void => {
  listener = handler;
};

export const askForToken = (reason: string): void => listener?.(reason);
