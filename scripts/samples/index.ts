/**
 * Sample webhook payloads (realistic per /work/shared/reference/providers.md), used by the CLI
 * (`send <provider> <sample>`), the local mode, the e2e tests and the worker tests.
 * ReCharge samples come in both API versions: 2021-01 (flat, upper-case) and 2021-11 (nested, lower-case).
 */
import type { Provider } from '../../shared/queue/message';
import rechargeV01OrderCreatedPrepaid from './recharge-2021-01-order-created-prepaid.json';
import rechargeV01OrderCreatedQueued from './recharge-2021-01-order-created-queued.json';
import rechargeV01OrderCreatedRegular from './recharge-2021-01-order-created-regular.json';
import rechargeV01OrderProcessedPrepaid from './recharge-2021-01-order-processed-prepaid.json';
import rechargeV01OrderProcessedRegular from './recharge-2021-01-order-processed-regular.json';
import rechargeV01OrderUpdatedPrepaid from './recharge-2021-01-order-updated-prepaid.json';
import rechargeV01OrderUpdatedRefunded from './recharge-2021-01-order-updated-refunded.json';
import rechargeV01OrderUpdatedRegular from './recharge-2021-01-order-updated-regular.json';
import rechargeV11OrderCreatedPrepaid from './recharge-2021-11-order-created-prepaid.json';
import rechargeV11OrderCreatedQueued from './recharge-2021-11-order-created-queued.json';
import rechargeV11OrderCreatedRegular from './recharge-2021-11-order-created-regular.json';
import rechargeV11OrderProcessedPrepaid from './recharge-2021-11-order-processed-prepaid.json';
import rechargeV11OrderProcessedRegular from './recharge-2021-11-order-processed-regular.json';
import rechargeV11OrderUpdatedPrepaid from './recharge-2021-11-order-updated-prepaid.json';
import rechargeV11OrderUpdatedRefunded from './recharge-2021-11-order-updated-refunded.json';
import rechargeV11OrderUpdatedRegular from './recharge-2021-11-order-updated-regular.json';
import seviPaid from './sevi-paid.json';
import seviPending from './sevi-pending.json';
import wixOrderExpired from './wix-order-expired.json';
import wixSubscriptionActive from './wix-subscription-active.json';
import wixSubscriptionCancelled from './wix-subscription-cancelled.json';
import wixTransactionApproved from './wix-transaction-approved.json';
import wixTransactionDeclined from './wix-transaction-declined.json';
import wixTransactionPending from './wix-transaction-pending.json';

export interface Sample {
  provider: Provider;
  /** ReCharge: `order/created`...; Wix: the body `type`; Sevi: `order/payment`. */
  topic: string;
  /** Short name, unique per provider: `send <provider> <name>`. */
  name: string;
  file: string;
  description: string;
  /** ReCharge only: the API version the payload is shaped in. */
  apiVersion?: '2021-01' | '2021-11';
  payload: unknown;
}

export const SAMPLES: readonly Sample[] = [
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-01-created-prepaid',
    file: 'recharge-2021-01-order-created-prepaid.json',
    description: 'order/created prepaid order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderCreatedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-01-created-queued',
    file: 'recharge-2021-01-order-created-queued.json',
    description: 'order/created queued (not yet paid) order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderCreatedQueued,
  },
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-01-created-regular',
    file: 'recharge-2021-01-order-created-regular.json',
    description: 'order/created regular order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderCreatedRegular,
  },
  {
    provider: 'recharge',
    topic: 'order/processed',
    name: '2021-01-processed-prepaid',
    file: 'recharge-2021-01-order-processed-prepaid.json',
    description: 'order/processed prepaid order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderProcessedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/processed',
    name: '2021-01-processed-regular',
    file: 'recharge-2021-01-order-processed-regular.json',
    description: 'order/processed regular order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderProcessedRegular,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-01-updated-prepaid',
    file: 'recharge-2021-01-order-updated-prepaid.json',
    description: 'order/updated prepaid order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderUpdatedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-01-updated-refunded',
    file: 'recharge-2021-01-order-updated-refunded.json',
    description: 'order/updated refunded order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderUpdatedRefunded,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-01-updated-regular',
    file: 'recharge-2021-01-order-updated-regular.json',
    description: 'order/updated regular order, API 2021-01',
    apiVersion: '2021-01',
    payload: rechargeV01OrderUpdatedRegular,
  },
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-11-created-prepaid',
    file: 'recharge-2021-11-order-created-prepaid.json',
    description: 'order/created prepaid order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderCreatedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-11-created-queued',
    file: 'recharge-2021-11-order-created-queued.json',
    description: 'order/created queued (not yet paid) order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderCreatedQueued,
  },
  {
    provider: 'recharge',
    topic: 'order/created',
    name: '2021-11-created-regular',
    file: 'recharge-2021-11-order-created-regular.json',
    description: 'order/created regular order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderCreatedRegular,
  },
  {
    provider: 'recharge',
    topic: 'order/processed',
    name: '2021-11-processed-prepaid',
    file: 'recharge-2021-11-order-processed-prepaid.json',
    description: 'order/processed prepaid order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderProcessedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/processed',
    name: '2021-11-processed-regular',
    file: 'recharge-2021-11-order-processed-regular.json',
    description: 'order/processed regular order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderProcessedRegular,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-11-updated-prepaid',
    file: 'recharge-2021-11-order-updated-prepaid.json',
    description: 'order/updated prepaid order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderUpdatedPrepaid,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-11-updated-refunded',
    file: 'recharge-2021-11-order-updated-refunded.json',
    description: 'order/updated refunded order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderUpdatedRefunded,
  },
  {
    provider: 'recharge',
    topic: 'order/updated',
    name: '2021-11-updated-regular',
    file: 'recharge-2021-11-order-updated-regular.json',
    description: 'order/updated regular order, API 2021-11',
    apiVersion: '2021-11',
    payload: rechargeV11OrderUpdatedRegular,
  },
  {
    provider: 'sevi',
    topic: 'order/payment',
    name: 'paid',
    file: 'sevi-paid.json',
    description: 'order payment PAID',
    payload: seviPaid,
  },
  {
    provider: 'sevi',
    topic: 'order/payment',
    name: 'pending',
    file: 'sevi-pending.json',
    description: 'order payment PENDING',
    payload: seviPending,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'ORDER_EXPIRED',
    name: 'order-expired',
    file: 'wix-order-expired.json',
    description: 'ORDER_EXPIRED (order-expired)',
    payload: wixOrderExpired,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'SUBSCRIPTION_STATUS_CHANGE',
    name: 'subscription-active',
    file: 'wix-subscription-active.json',
    description: 'SUBSCRIPTION_STATUS_CHANGE (subscription-active)',
    payload: wixSubscriptionActive,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'SUBSCRIPTION_STATUS_CHANGE',
    name: 'subscription-cancelled',
    file: 'wix-subscription-cancelled.json',
    description: 'SUBSCRIPTION_STATUS_CHANGE (subscription-cancelled)',
    payload: wixSubscriptionCancelled,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'TRANSACTION',
    name: 'transaction-approved',
    file: 'wix-transaction-approved.json',
    description: 'TRANSACTION (transaction-approved)',
    payload: wixTransactionApproved,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'TRANSACTION',
    name: 'transaction-declined',
    file: 'wix-transaction-declined.json',
    description: 'TRANSACTION (transaction-declined)',
    payload: wixTransactionDeclined,
  },
  {
    provider: 'wix-cashier-pay',
    topic: 'TRANSACTION',
    name: 'transaction-pending',
    file: 'wix-transaction-pending.json',
    description: 'TRANSACTION (transaction-pending)',
    payload: wixTransactionPending,
  },
];

/** Finds a sample by provider and short name (or file name); undefined when unknown. */
export function findSample(provider: string, name: string): Sample | undefined {
  return SAMPLES.find(
    (s) => s.provider === provider && (s.name === name || s.file === name || s.file === `${name}.json`),
  );
}

/** A sample's payload as the raw JSON body a provider would POST. */
export function sampleBody(sample: Sample): string {
  return JSON.stringify(sample.payload);
}

/** A deep copy of a sample's payload to modify in tests without touching the shared import. */
export function samplePayload<T = Record<string, unknown>>(provider: string, name: string): T {
  const sample = findSample(provider, name);
  if (!sample) throw new Error(`unknown sample ${provider}/${name}`);
  return structuredClone(sample.payload) as T;
}
