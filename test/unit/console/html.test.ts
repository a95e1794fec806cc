import { Html, html, query } from '../../../scripts/console/html';
import { reasonGroup } from '../../../scripts/console/pages';

describe('console html: every interpolation is escaped', () => {
  it('escapes text and attribute values, and keeps only nested html as markup', () => {
    const hostile = `"><script>alert(1)</script><img src=x onerror='x'>\``;
    const page = html`<a title="${hostile}">${hostile}</a>${html`<b>${hostile}</b>`}${[hostile, 1]}`;

    expect(page.value).not.toMatch(/<script|<img|"><|onerror='/);
    expect(page.value).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x&#39;&gt;&#96;">' +
        '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x&#39;&gt;&#96;</a>' +
        '<b>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x&#39;&gt;&#96;</b>' +
        '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;x&#39;&gt;&#96;1',
    );
  });

  it('renders nothing for undefined, null and false, and escapes a query string once more in markup', () => {
    expect(html`${undefined}${null}${false}${0}`.value).toBe('0');
    const href = `/order${query({ provider: 'recharge', id: '1&x="y"' })}`;
    expect(href).toBe('/order?provider=recharge&id=1%26x%3D%22y%22');
    expect(html`<a href="${href}">`.value).toBe('<a href="/order?provider=recharge&amp;id=1%26x%3D%22y%22">');
    expect(new Html('<i>').toString()).toBe('<i>');
  });
});

describe('console dead-letter groups', () => {
  it('puts one cause for many orders in one group, and keeps different steps and statuses apart', () => {
    const a = reasonGroup({
      failureStep: 'recharge-put-order',
      failureReason: 'recharge /orders/870000002 answered 404',
    });
    const b = reasonGroup({
      failureStep: 'recharge-put-order',
      failureReason: 'recharge /orders/550123456 answered 404',
    });
    const c = reasonGroup({
      failureStep: 'recharge-put-order',
      failureReason: 'recharge /orders/550123456 answered 422',
    });
    const d = reasonGroup({
      failureStep: 'create-order',
      failureReason: 'recharge /orders/550123456 answered 404',
    });

    expect(a).toBe('[recharge-put-order] recharge /orders/* answered 404');
    expect(b).toBe(a);
    expect(new Set([a, c, d]).size).toBe(3);
    expect(
      reasonGroup({
        failureStep: undefined,
        failureReason: 'claim 0f8fad5b-d9cb-469f-a165-70867728950e missing',
      }),
    ).toBe('claim * missing');
  });
});
