import type { IngestProvider } from '../ingest/provider';
import type { Provider } from '../queue/message';
import { rechargeIngest } from './recharge/ingest';
import { seviIngest } from './sevi/ingest';
import { wixCashierPayIngest } from './wix-cashier-pay/ingest';

/**
 * Providers the ingest serves, by route segment (`/webhooks/<provider>/...`). Adding a provider:
 * a folder with its `ingest.ts`, and one line here.
 */
export const INGEST_PROVIDERS: Readonly<Record<Provider, IngestProvider>> = {
  recharge: rechargeIngest,
  'wix-cashier-pay': wixCashierPayIngest,
  sevi: seviIngest,
};
