/** The token prompt's trigger: any page that gets a 401 calls askForToken; the app shows the form. */
let listener: ((reason: string) => void) | undefined;
// A 401 can come before the app listens: an answer early.ts started arrives as the page first renders.
let unheard: string | undefined;

export const onTokenNeeded = (handler: (reason: string) => void): void => {
  listener = handler;
  if (unheard !== undefined) handler(unheard);
  unheard = undefined;
};

export const askForToken = (reason: string): void => {
  if (listener === undefined) unheard = reason;
  else listener(reason);
};
