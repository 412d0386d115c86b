/**
 * The S3 XML reader and writer on the answers S3 and compatible services send, and on what a
 * proxy may send instead.
 */
import { describe, expect, it } from 'vitest'
import {
  readErrorFields,
  readListPage,
  readUploadId,
  toCompleteMultipartUpload,
} from '../../src/store/s3-xml.ts'

describe('readListPage', () => {
  it('reads keys as text, one page or a single entry alike', () => {
    const page = readListPage(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<IsTruncated>true</IsTruncated><NextContinuationToken>1ue/GcxL=</NextContinuationToken>' +
        '<Contents><Key>0123</Key><Size>5</Size></Contents>' +
        '<Contents><Key> a&amp;b&#x0D;&#13;&lt;&quot;&#x1F600;</Key></Contents>' +
        '</ListBucketResult>',
    )
    expect(page).toEqual({
      keys: ['0123', ' a&b\r\r<"😀'],
      truncated: true,
      nextToken: '1ue/GcxL=',
    })
    expect(
      readListPage('<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>'),
    ).toEqual({ keys: ['k'], truncated: false, nextToken: undefined })
    expect(
      readListPage('<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>').keys,
    ).toEqual([])
  })

  it('reads an answer that is not a listing as an empty page', () => {
    for (const text of ['', 'Bad Gateway', '<html><body>502</body></html>', '<a><b></a>']) {
      expect(readListPage(text)).toEqual({ keys: [], truncated: false, nextToken: undefined })
    }
  })
})

describe('readUploadId and readErrorFields', () => {
  it('read the upload id and an error code and message', () => {
    expect(
      readUploadId(
        '<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>VXBs&amp;</UploadId></InitiateMultipartUploadResult>',
      ),
    ).toBe('VXBs&')
    expect(readUploadId('<Error><Code>AccessDenied</Code></Error>')).toBeUndefined()
    expect(
      readErrorFields(
        '  \n<?xml version="1.0"?>\n<Error><Code>NoSuchKey</Code><Message>The key &quot;x&quot; is gone</Message></Error>',
      ),
    ).toEqual({ code: 'NoSuchKey', message: 'The key "x" is gone' })
  })

  it('tells a success or a non-XML answer from an error', () => {
    expect(readErrorFields('<CompleteMultipartUploadResult/>')).toBeUndefined()
    expect(readErrorFields('')).toBeUndefined()
    expect(readErrorFields('<html>Service Unavailable</html>')).toBeUndefined()
    expect(readErrorFields('<Error></Error>')).toEqual({ code: undefined, message: undefined })
  })
})

describe('toCompleteMultipartUpload', () => {
  it('lists the parts in order with their ETags escaped', () => {
    expect(toCompleteMultipartUpload(['"a1"', '"b&<2"'])).toBe(
      '<CompleteMultipartUpload>' +
        '<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part>' +
        '<Part><PartNumber>2</PartNumber><ETag>&quot;b&amp;&lt;2&quot;</ETag></Part>' +
        '</CompleteMultipartUpload>',
    )
    expect(toCompleteMultipartUpload(['"only"'])).toBe(
      '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;only&quot;</ETag></Part></CompleteMultipartUpload>',
    )
  })
})
